"""scoring/ (including scoring/rules/) must never import the web layer or a database library."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = {"flask", "sqlmodel", "sqlalchemy", "web"}
SCORING = Path(__file__).resolve().parents[2] / "scoring"


def forbidden_imports(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [n for n in names if n.split(".")[0] in FORBIDDEN]
    return found


def test_checker_catches_forbidden_imports():
    assert forbidden_imports("import flask\nfrom sqlalchemy.orm import Session\nimport web.cli") == [
        "flask", "sqlalchemy.orm", "web.cli"]
    assert forbidden_imports("import numpy\nfrom scoring import graph\nimport webbrowser") == []


def test_scoring_imports_no_web_or_database():
    modules = sorted(SCORING.rglob("*.py"))
    assert any(p.name == "normalize.py" for p in modules)
    offenders = {str(p.relative_to(SCORING.parent)): bad for p in modules
                 if (bad := forbidden_imports(p.read_text(encoding="utf-8")))}
    assert offenders == {}
