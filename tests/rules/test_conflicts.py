"""Conflicts of interest (回避): every reason code, name folding, the indexed table agrees with
the pairwise rule, and the per-stage switch in config/stages.toml."""
from __future__ import annotations

import itertools
import random

import pytest

from scoring.rules.config import ConfigError, load_rules
from scoring.rules.conflicts import (CONFLICT_REASONS, ConflictRules, Expert, Recusal, Work, conflict_reasons,
                                     find_conflicts, fold_name)
from tests.rules.test_config_loading import config_copy, edit  # noqa: F401  (fixture)

WORK = Work(id="w1", category="网络剧", submitter="华策影视", copyright_holder="浙江华策影视股份有限公司",
            unit="浙江省广播电视局", unit_province="浙江", people=("张三",))


@pytest.mark.parametrize("expert, rules, codes", [
    (Expert(1, ("网络剧",), organisation="华策影视"), ConflictRules(), ("same_organisation_submitter",)),
    (Expert(1, ("网络剧",), organisation="浙江华策影视股份有限公司"), ConflictRules(), ("same_organisation_copyright",)),
    (Expert(1, ("网络剧",), organisation="华策影视"), ConflictRules(same_organisation=False), ()),
    (Expert(1, ("网络剧",), province="浙江"), ConflictRules(same_province=True), ("same_province",)),
    (Expert(1, ("网络剧",), province="浙江"), ConflictRules(same_province=False), ()),
    (Expert(1, ("网络剧",), declared_organisations=("浙江省广播电视局",)), ConflictRules(), ("declared_organisation",)),
    (Expert(1, ("网络剧",), declared_people=("张三",)), ConflictRules(), ("declared_person",)),
    (Expert(1, ("网络剧",), declared_work_ids=("w1",)), ConflictRules(), ("declared_work",)),
    (Expert(1, ("网络剧",), organisation="芒果超媒", province="湖南"), ConflictRules(same_province=True), ()),
])
def test_each_reason(expert, rules, codes):
    assert conflict_reasons(expert, WORK, rules=rules) == codes


def test_recusal_and_labels():
    expert = Expert(7, ("网络剧",))
    assert conflict_reasons(expert, WORK, recusals=[Recusal(7, "w1", "亲属参与制作")]) == ("recused",)
    assert conflict_reasons(expert, WORK, recusals=[Recusal(8, "w1")]) == ()
    for zh, en in CONFLICT_REASONS.values():
        assert zh and en and zh != en


def test_names_fold_width_space_and_case_but_empty_never_matches():
    assert fold_name(" ＡＢＣ传媒 ") == fold_name("abc传媒")
    assert conflict_reasons(Expert(1, ("网络剧",), organisation="ＡＢＣ传媒"), Work("w", "网络剧", submitter="abc传媒 "))
    assert conflict_reasons(Expert(1, ("网络剧",)), Work("w", "网络剧")) == ()
    assert conflict_reasons(Expert(1, ("网络剧",), province=""), Work("w", "网络剧"),
                            rules=ConflictRules(same_province=True)) == ()


def test_indexed_table_agrees_with_the_pairwise_rule():
    rnd = random.Random(3)
    orgs, provinces, people = ["甲", "乙", "丙", "丁", ""], ["京", "沪", "浙", ""], ["张", "李", "王"]
    experts = [Expert(i, ("网络剧",), organisation=rnd.choice(orgs), province=rnd.choice(provinces),
                      declared_organisations=tuple(rnd.sample(orgs, rnd.randint(0, 2))),
                      declared_people=tuple(rnd.sample(people, rnd.randint(0, 1))),
                      declared_work_ids=tuple(rnd.sample(range(30), rnd.randint(0, 2)))) for i in range(25)]
    works = [Work(j, "网络剧", submitter=rnd.choice(orgs), copyright_holder=rnd.choice(orgs), unit=rnd.choice(orgs),
                  unit_province=rnd.choice(provinces), people=tuple(rnd.sample(people, rnd.randint(0, 2))))
             for j in range(30)]
    recusals = [Recusal(rnd.randrange(25), rnd.randrange(30)) for _ in range(5)]
    for rules in (ConflictRules(), ConflictRules(same_organisation=False, same_province=True)):
        table = find_conflicts(experts, works, rules=rules, recusals=recusals)
        found = 0
        for (e, x), (w, work) in itertools.product(enumerate(experts), enumerate(works)):
            expected = conflict_reasons(x, work, rules=rules, recusals=recusals)
            assert table.codes_of(e, w) == expected
            assert bool(table.contains([e], [w])[0]) == bool(expected)
            found += bool(expected)
        assert len(table) == found > 0


def test_unknown_ids_and_duplicates_are_errors():
    with pytest.raises(ValueError, match="unknown expert"):
        find_conflicts([Expert(1, ("网络剧",))], [WORK], recusals=[Recusal(2, "w1")])
    with pytest.raises(ValueError, match="listed twice"):
        find_conflicts([Expert(1, ("网络剧",))], [WORK, WORK])


def test_stage_switch_from_config(config_copy):  # noqa: F811
    policy = load_rules().assignment
    assert ConflictRules.for_stage(policy, "provincial") == ConflictRules(True, True)
    assert ConflictRules.for_stage(policy, "national") == ConflictRules(True, False)
    with pytest.raises(KeyError):
        policy.recuses_same_province("county")
    edit(config_copy / "stages.toml", "[assignment.recuse_same_province]\nprovincial = true\nnational = false\n",
         "recuse_same_province = true\n")
    assert load_rules(config_copy).assignment.recuse_same_province == {"provincial": True, "national": True}


@pytest.mark.parametrize("new, pattern", [
    ("[assignment.recuse_same_province]\nprovincal = true\n", r"assignment\.recuse_same_province\.provincal: unknown"),
    ("[assignment.recuse_same_province]\nnational = 1\n", r"assignment\.recuse_same_province\.national: expected true"),
    ("recuse_same_province = \"yes\"\n", r"assignment\.recuse_same_province: expected a table"),
])
def test_stage_switch_errors(config_copy, new, pattern):  # noqa: F811
    edit(config_copy / "stages.toml", "[assignment.recuse_same_province]\nprovincial = true\nnational = false\n", new)
    with pytest.raises(ConfigError, match=pattern):
        load_rules(config_copy)


def test_omitted_stage_defaults_provincial_on(config_copy):  # noqa: F811
    edit(config_copy / "stages.toml", "[assignment.recuse_same_province]\nprovincial = true\nnational = false\n", "")
    assert load_rules(config_copy).assignment.recuse_same_province == {"provincial": True, "national": False}
