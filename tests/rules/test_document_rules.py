"""config/documents.toml: the issuing body, the display timezone and paper signatures, checked on load."""
from __future__ import annotations

import pytest

from scoring.rules.documents import DocumentRule, load_document_rule
from scoring.rules.toml_reader import ConfigError


def test_the_shipped_file_is_the_documented_default():
    assert load_document_rule() == DocumentRule()
    rule = load_document_rule()
    assert rule.issuer(provincial=False, unit=None) == "国家广播电视总局网络视听节目管理司"
    assert rule.issuer(provincial=True, unit="浙江省") == "浙江省广播电视局"
    assert rule.issuer(provincial=True, unit="浙江省广播电视局") == "浙江省广播电视局"  # already a body
    assert str(rule.zone) == "Asia/Shanghai" and rule.zone_label == "北京时间" and rule.paper_signatures


def test_a_missing_file_gives_the_defaults(tmp_path):
    assert load_document_rule(tmp_path) == DocumentRule()


@pytest.mark.parametrize("text, where", [
    ('[time]\ntimezone = "Mars/Base"\n', "time.timezone"),
    ('[time]\ntimezone = ""\n', "time.timezone"),
    ('[time]\nzone = "Asia/Shanghai"\n', "time.zone"),
    ('[signatures]\npaper = "yes"\n', "signatures.paper"),
    ('[issuer]\nnational = 3\n', "issuer.national"),
    ('issuer = "总局"\n', "issuer"),
    ('[seal]\nimage = "x.png"\n', "seal"),
])
def test_a_bad_value_names_the_file_and_key(tmp_path, text, where):
    (tmp_path / "documents.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"documents.toml: {where}"):
        load_document_rule(tmp_path)


def test_settings_are_read(tmp_path):
    (tmp_path / "documents.toml").write_text(
        '[issuer]\nprovincial = "{unit}广播电视局网络视听处"\n[time]\ntimezone = "Asia/Urumqi"\nzone_label = "乌鲁木齐时间"\n'
        '[signatures]\npaper = false\n', encoding="utf-8")
    rule = load_document_rule(tmp_path)
    assert rule.issuer(provincial=True, unit="新疆维吾尔自治区") == "新疆维吾尔自治区广播电视局网络视听处"
    assert (rule.timezone, rule.zone_label, rule.paper_signatures) == ("Asia/Urumqi", "乌鲁木齐时间", False)
