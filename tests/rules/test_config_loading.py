"""Rules-as-data: the shipped config loads, and wrong values stop loading with a message
naming the file, the key and the problem."""
from __future__ import annotations

import datetime as dt
import re
import shutil
import tomllib
from pathlib import Path

import pytest

from scoring.rules.config import DEFAULT_CONFIG_DIR, ConfigError, load_rules

NOTICE_CATEGORIES = ["网络纪录片", "网络综艺节目", "网络动画片", "网络剧", "网络电影", "网络微短剧",
                     "网络微电影", "网络直播节目", "网络音频节目", "短视频", "网络公益短片"]
LICENSED = {"网络剧", "网络电影", "网络纪录片", "网络综艺节目", "网络动画片", "网络微短剧", "网络直播节目"}


@pytest.fixture
def config_copy(tmp_path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not found in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_shipped_config_matches_the_notice():
    rules = load_rules()
    assert list(rules.category_names) == NOTICE_CATEGORIES
    assert {c.name for c in rules.categories if c.license_required} == LICENSED
    cal = rules.calendar(2025)
    windows = [(q.broadcast_start, q.broadcast_end) for q in cal.quarters]
    assert windows == [(dt.date(2024, 12, 1), dt.date(2025, 2, 28)), (dt.date(2025, 3, 1), dt.date(2025, 5, 31)),
                       (dt.date(2025, 6, 1), dt.date(2025, 8, 31)), (dt.date(2025, 9, 1), dt.date(2025, 11, 30))]
    assert [q.submission_deadline.strftime("%m-%d") for q in cal.quarters] == ["03-15", "06-15", "09-15", "12-15"]
    assert [q.forwarding_deadline.strftime("%m-%d") for q in cal.quarters] == ["03-31", "06-30", "09-30", "12-31"]
    assert cal.dissemination_with == "Q4"
    works = rules.criteria_sets["works"]
    assert [c.label for c in works.criteria] == ["思想精深", "艺术精湛", "制作精良", "创新创造"]
    assert sum(c.weight for c in works.criteria) == pytest.approx(1.0)
    assert len(works.highlights) == 7
    assert any("抗日战争" in item for item in works.highlights[-1].detail)
    assert rules.criteria_sets["dissemination"].bar is not None
    assert rules.stages["provincial"].recommend_cap == 0.5
    assert rules.stages["national"].recommend_cap is None


def test_category_lookup_by_name_key_or_english():
    rules = load_rules()
    assert rules.category("网络剧").key == "drama"
    assert rules.category("drama").name == "网络剧"
    assert rules.category("web drama").name == "网络剧"
    with pytest.raises(KeyError):
        rules.category("网络连续剧")


@pytest.mark.parametrize("file, old, new, pattern", [
    # a wrong category name in the shortlist slots
    ("stages.toml", '"短视频" = 9', '"短视屏" = 9', r"stages\.toml: shortlist\.quarter\.slots\.短视屏: unknown category"),
    # a window that ends before it starts
    ("calendar-2025.toml", "broadcast_end = 2025-05-31", "broadcast_end = 2025-02-01",
     r"calendar-2025\.toml: quarter\[1\]\.broadcast_end: 2025-02-01 is before broadcast_start"),
    # weights that make no sense
    ("criteria.toml", "weight = 0.30", "weight = -0.30", r"criteria\.toml: works\.criterion\[1\]\.weight: -0\.3 must be positive"),
    ("criteria.toml", "weight = 0.30", "weight = 0", r"works\.criterion\[1\]\.weight: 0\.0 must be positive"),
    ("criteria.toml", "weight = 0.30", "weight = 30", r"works\.criterion: one criterion carries more than 90%"),
    ("criteria.toml", "weight = 0.30", 'weight = "high"', r"works\.criterion\[1\]\.weight: expected a number"),
    # scales
    ("criteria.toml", "max = 10\nstep = 0.5\nweight = 0.30", "max = 0\nstep = 0.5\nweight = 0.30",
     r"works\.criterion\[1\]\.max: 0\.0 must be greater than min"),
    ("criteria.toml", "step = 0.5\nweight = 0.30", "step = 0.3\nweight = 0.30", r"works\.criterion\[1\]\.step: 0\.3 does not divide"),
    # a typo must not pass silently
    ("criteria.toml", "weight = 0.30", "wieght = 0.30", r"works\.criterion\[1\]\.wieght: unknown setting"),
    ("categories.toml", "license_required = true", "licence_required = true", r"category\[0\]\.licence_required: unknown setting"),
    ("categories.toml", 'name = "网络剧"', 'name = "网络纪录片"', r"category\[3\]\.name: category '网络纪录片' is declared twice"),
    ("stages.toml", "recommend_cap = 0.5", "recommend_cap = 1.5", r"stage\.provincial\.recommend_cap: 1\.5 must be a share"),
    ("stages.toml", "near_duplicate_threshold = 0.92", "near_duplicate_threshold = 0", r"intake\.near_duplicate_threshold"),
    ("calendar-2025.toml", 'dissemination_with = "Q4"', 'dissemination_with = "Q5"', r"annual\.dissemination_with: unknown quarter 'Q5'"),
    ("calendar-2025.toml", "forwarding_deadline = 2025-03-31", "forwarding_deadline = 2025-03-01",
     r"quarter\[0\]\.forwarding_deadline: 2025-03-01 is before submission_deadline"),
    ("calendar-2025.toml", "year = 2025", "year = 2026", r"calendar-2025\.toml: year: 2026 does not match the file name"),
    ("criteria.toml", "bar = 8.0", "bar = 11.0", r"dissemination\.bar: 11\.0 is outside the scale"),
])
def test_wrong_values_name_file_key_and_problem(config_copy, file, old, new, pattern):
    edit(config_copy / file, old, new)
    with pytest.raises(ConfigError, match=pattern):
        load_rules(config_copy)


def test_missing_file_and_bad_toml(config_copy):
    (config_copy / "stages.toml").unlink()
    with pytest.raises(ConfigError, match=r"stages\.toml: -: file not found"):
        load_rules(config_copy)
    (config_copy / "stages.toml").write_text("[stage\n")
    with pytest.raises(ConfigError, match=r"stages\.toml: -: not valid TOML"):
        load_rules(config_copy)


def test_loaded_rules_are_frozen():
    rules = load_rules()
    with pytest.raises(AttributeError):
        rules.categories[0].license_required = False  # type: ignore[misc]


def _keys(table, prefix=""):
    for key, value in table.items():
        if isinstance(value, dict):
            yield from _keys(value, f"{prefix}{key}.")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for item in value:
                yield from _keys(item, f"{prefix}{key}.")
        else:
            yield key


def test_every_declared_setting_is_documented():
    """docs/config.md names every key used in config/ (STYLE: rules as data)."""
    doc = (DEFAULT_CONFIG_DIR.parent / "docs" / "config.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_0-9]+)`", doc))
    missing = set()
    for path in DEFAULT_CONFIG_DIR.glob("*.toml"):
        with path.open("rb") as fh:
            table = tomllib.load(fh)
        for key in _keys(table):
            if re.fullmatch(r"[a-z_0-9]+", key) and key not in documented:
                missing.add(f"{path.name}:{key}")
    assert not missing, f"undocumented settings: {sorted(missing)}"
