"""The configuration directory is resolved once per name and working directory, not once per
call (a live board reads the document rule for every time it shows), and still follows
``TUIYOU_CONFIG`` and the working directory."""
from __future__ import annotations

import shutil
from pathlib import Path

from scoring.rules import toml_reader
from scoring.rules.config import DEFAULT_CONFIG_DIR, load_rules
from scoring.rules.documents import load_document_rule
from scoring.rules.toml_reader import config_directory


def test_the_directory_follows_the_argument_the_environment_and_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("TUIYOU_CONFIG", raising=False)
    assert config_directory(None, DEFAULT_CONFIG_DIR) == DEFAULT_CONFIG_DIR.resolve()
    monkeypatch.setenv("TUIYOU_CONFIG", str(tmp_path))
    assert config_directory(None, DEFAULT_CONFIG_DIR) == tmp_path.resolve()
    assert config_directory(DEFAULT_CONFIG_DIR, DEFAULT_CONFIG_DIR) == DEFAULT_CONFIG_DIR.resolve()
    for name in ("a", "b"):
        (tmp_path / name / "conf").mkdir(parents=True)
        monkeypatch.chdir(tmp_path / name)
        assert config_directory("conf", DEFAULT_CONFIG_DIR) == (tmp_path / name / "conf").resolve()


def test_a_rule_read_a_thousand_times_resolves_its_directory_once(tmp_path, monkeypatch):
    copy = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, copy)
    monkeypatch.setenv("TUIYOU_CONFIG", str(copy))
    resolved = []
    real = Path.resolve
    monkeypatch.setattr(Path, "resolve", lambda self, *a, **k: resolved.append(self) or real(self, *a, **k))
    toml_reader._resolved.cache_clear()
    first = load_document_rule()
    for _ in range(1000):
        assert load_document_rule() is first
        load_rules()
    assert len(resolved) == 1
