"""The shape of ``web/``: no import cycles, no SQL in routes, features' pages independent of each
other, and the numeric commands free of Flask and SQLAlchemy.

(``scoring/`` importing nothing of the web layer is ``tests/scoring/test_layering.py``.)
"""
from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
WEB = ROOT / "web"
SQL = re.compile(r"\bselect\(|\.exec\(|\.execute\(")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Every module of ``known`` that ``path`` imports, at module level or inside a function."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    paths = [p for p in root.rglob("*.py") if "migrations" not in p.parts]
    known = {module_name(p) for p in paths}
    return {module_name(p): imports_of(p, known) for p in paths}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_cycle_finder_finds_a_planted_cycle(tmp_path):
    pkg = tmp_path / "web"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "__init__.py").write_text("")
    (pkg / "a" / "cli.py").write_text("def f():\n    from ..top import x\n")
    (pkg / "top.py").write_text("from .a.cli import f\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        assert cycles(import_graph(pkg)) == [["web.a.cli", "web.top"]]
    finally:
        ROOT = saved


def test_web_has_no_import_cycles():
    graph = import_graph(WEB)
    assert "web.intake.routes" in graph and "web.rounds.queries" in graph["web.intake.routes"]
    assert cycles(graph) == []


INFRASTRUCTURE = {"core"}  # app-wide pieces every feature may import; they import no feature back


def feature_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Which feature package (``web/<feature>/``) imports which other: the module graph folded."""
    folded: dict[str, set[str]] = {}
    for module, targets in graph.items():
        parts = module.split(".")
        if len(parts) < 3:  # web itself, web.cli: the app's entry points, not a feature
            continue
        for target in targets:
            other = target.split(".")
            if len(other) >= 3 and other[1] != parts[1] and other[1] not in INFRASTRUCTURE:
                folded.setdefault(parts[1], set()).add(other[1])
    return folded


def test_feature_cycle_finder_finds_a_planted_cycle():
    graph = {"web.a.operations": {"web.b.queries", "web.core.db"}, "web.b.queries": {"web.core.models"},
             "web.b.routes": {"web.a.operations"}, "web.c.routes": {"web.a.operations"}, "web.core.db": set()}
    assert cycles(feature_graph(graph)) == [["a", "b"]]
    del graph["web.b.routes"]
    assert cycles(feature_graph(graph)) == []


def test_feature_packages_form_no_cycle():
    """Before the second pass (issue 20) one cycle ran through five features (exports, panel, rating,
    review, rounds) with panel/ as its hub; concepts several features use live in one package now."""
    graph = feature_graph(import_graph(WEB))
    assert "signing" in graph["review"] and "review" not in graph["signing"]
    assert cycles(graph) == []


def route_modules() -> list[Path]:
    return sorted([*WEB.rglob("routes.py"), *(p for p in (WEB / "api").glob("*.py") if p.name != "__init__.py")])


def test_routes_hold_no_sql():
    offenders = {}
    for path in route_modules():
        hits = [f"line {n}: {line.strip()}" for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if SQL.search(line)]
        if hits:
            offenders[str(path.relative_to(ROOT))] = hits
    assert offenders == {}
    assert SQL.search("rows = db.exec(select(Work))") and not SQL.search("selected = 1")


def test_a_feature_routes_never_import_another_feature_routes():
    graph = import_graph(WEB)
    offenders = []
    for module, targets in graph.items():
        if module.endswith(".routes"):
            feature = module.split(".")[1]
            offenders += [(module, t) for t in targets
                          if t.endswith(".routes") and t.split(".")[1] != feature]
    assert offenders == []


def features() -> list[str]:
    """Every feature package: a package under web/ other than the infrastructure and the API."""
    return sorted(p.parent.name for p in WEB.glob("*/__init__.py") if p.parent.name not in INFRASTRUCTURE | {"api"})


def test_every_feature_has_the_documented_shape():
    assert {"accounts", "rounds", "intake", "rating", "review", "signing"} <= set(features())
    for feature in ("accounts", "rounds", "intake"):
        for part in ("routes.py", "operations.py", "queries.py", "cli.py", "templates"):
            assert (WEB / feature / part).exists(), f"web/{feature}/{part}"
    for feature in features():
        package = WEB / feature
        assert ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8"))) or \
            (package / "routes.py").exists() or (package / "cli.py").exists(), f"web/{feature}: what is it?"
        # the middle layer has one name (issue 20: rating/actions.py and review/console.py were it)
        assert not {"actions.py", "console.py", "service.py"} & {p.name for p in package.glob("*.py")}, feature
        if (package / "templates").exists():  # a feature's templates sit in templates/<feature>/
            assert {p.name for p in (package / "templates").iterdir()} == {feature}, feature
        if (package / "routes.py").exists():
            assert re.search(r"^bp = Blueprint\(", (package / "routes.py").read_text(encoding="utf-8"), re.M), feature


def test_docs_name_every_package():
    """docs/architecture.md lists every package of web/ and every module of web/api/."""
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [f for f in [*features(), "core", "api"] if not re.search(rf"^\s+{f}/\s", doc, re.M)]
    missing += [p.name for p in (WEB / "api").glob("*.py") if p.name != "__init__.py" and p.name not in doc]
    assert missing == []


def test_views_leave_commit_and_rollback_to_the_unit_of_work():
    """Routes and API views neither commit nor roll back: the request's unit of work does
    (web.core.db), and a refusal is raised, not caught (web.core.errors)."""
    offenders = {str(p.relative_to(ROOT)): n for p in route_modules()
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"\.(commit|rollback)\(\)", line)}
    assert offenders == {}


def test_analyze_loads_neither_flask_nor_sqlalchemy(tmp_path):
    scores = tmp_path / "scores.csv"
    scores.write_text("work_id,rater_id,score\nw1,a,5\nw1,b,6\nw2,a,7\nw2,b,8\n")
    script = ("import sys\nfrom web.cli import main\n"
              "try:\n    main(sys.argv[1:])\n"
              "except SystemExit as stop:\n"
              "    heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy', 'sqlmodel'))\n"
              "    print('HEAVY', heavy, file=sys.stderr)\n    raise\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for command in (["analyze", str(scores)], ["reliability", str(scores), "--stat", "icc"], ["--help"]):
        done = subprocess.run([sys.executable, "-c", script, *command], capture_output=True, text=True,
                              cwd=ROOT, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "HEAVY []" in done.stderr, (command, done.stderr[-500:])
    assert "w1" in subprocess.run([sys.executable, "-c", script, "analyze", str(scores)], capture_output=True,
                                  text=True, cwd=ROOT, env=env, timeout=120).stdout


def test_permission_templates_ask_predicates_not_state_strings():
    """The recuse button, the explanation box and the assignment page's forms show what the
    operations allow (``can_recuse``, ``can_explain``, ``can_change``), not a copy of their rule."""
    state_test = re.compile(r"\.state\.value (==|in|not in) ")  # a round's state: what the rules decide
    for template in ("rating/templates/rating/form.html", "rating/templates/rating/_explain.html",
                     "assignment/templates/assignment/round.html"):
        text = (WEB / template).read_text(encoding="utf-8")
        assert not [line for line in text.splitlines() if state_test.search(line)], template
    assert state_test.search("{% if row.round.state.value in ('intake', 'scoring') %}")


def test_one_round_lookup():
    """Pages and the API find a round by key through rounds.queries.round_or_404 (a 404 refusal)."""
    copies = [str(p.relative_to(ROOT)) for p in route_modules()
              if re.search(r"get_round\(.*\n\s*if round_ is None:\n\s*abort\(404\)", p.read_text(encoding="utf-8"))]
    assert copies == []
