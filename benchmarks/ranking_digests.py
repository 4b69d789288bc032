"""SHA-256 of the stored result of every round's ranking, to show that a change keeps them byte for byte.

What the recompute stores (``services.compute_ranking_of``'s result, ``to_json`` serialized as
``operations.store_ranking`` does) is what ``tuiyou result verify`` re-derives for a signed
result, so a change to the computation must leave it byte-identical. For each database given,
every round with submitted ratings, and the methods affine, additive and raw, this prints the
SHA-256 of that payload (and its length). Run it on two checkouts over the same database files
and compare the outputs::

    .venv/bin/python benchmarks/ranking_digests.py --build /tmp/digests   # once: the databases
    .venv/bin/python benchmarks/ranking_digests.py /tmp/digests/*.sqlite > after.json
    .venv/bin/python benchmarks/ranking_digests.py --tree ../before /tmp/digests/*.sqlite > before.json
    diff before.json after.json && echo "byte for byte"

``--build DIR`` writes the two databases: ``round5000.sqlite`` (benchmarks/bench_review.py's round
of 5,000 works, 100 experts, 5 ratings per work) and ``demo.sqlite`` (``tuiyou demo``'s data, seed
2025: quarterly, provincial, dissemination and annual rounds).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

METHODS = ("affine", "additive", "raw")


def build(directory: Path) -> None:
    """The 5,000-work round and the demo's rounds, each in a fresh SQLite file under ``directory``."""
    from bench_review import build as build_round
    from sqlmodel import Session

    from seed.demo import build_demo
    from web.core.db import make_engine
    from web.core.migrate import upgrade

    directory.mkdir(parents=True, exist_ok=True)
    for name in ("round5000.sqlite", "demo.sqlite"):
        (directory / name).unlink(missing_ok=True)
    build_round(f"sqlite:///{directory / 'round5000.sqlite'}", 5000, 100, 5)
    engine = make_engine(f"sqlite:///{directory / 'demo.sqlite'}")
    upgrade(engine)
    with Session(engine) as session:
        build_demo(session, seed=2025)
        session.commit()


def digests(path: Path) -> dict[str, str]:
    """Round key and method -> SHA-256 and length of the stored payload, for one database."""
    from sqlalchemy import func
    from sqlmodel import Session, select

    from web.core.db import make_engine
    from web.core.models import Assignment, AssignmentStatus, Round
    from web.review import services

    engine = make_engine(f"sqlite:///{path}")
    out = {}
    with Session(engine) as session:
        rated = session.exec(select(Assignment.round_id).where(Assignment.status == AssignmentStatus.submitted)
                             .group_by(Assignment.round_id).having(func.count() > 0)).all()
        for round_ in session.exec(select(Round).where(Round.id.in_(rated)).order_by(Round.id)).all():
            for method in METHODS:
                ranking = services.compute_ranking_of(session=session, round_=round_, method=method)
                payload = json.dumps(ranking.to_json(), ensure_ascii=False, allow_nan=False).encode()
                out[f"{path.name} | {round_.key} | {method}"] = (
                    f"{hashlib.sha256(payload).hexdigest()} ({len(payload):,} bytes, {len(ranking.rows)} rows)")
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("databases", nargs="*", type=Path, help="SQLite files (e.g. the ones --build wrote)")
    parser.add_argument("--tree", default=str(Path(__file__).resolve().parents[1]),
                        help="the checkout whose code computes (default: this one)")
    parser.add_argument("--build", type=Path, metavar="DIR", help="write round5000.sqlite and demo.sqlite to DIR")
    args = parser.parse_args()
    tree = Path(args.tree).resolve()
    sys.path[:0] = [str(tree), str(tree / "benchmarks")]
    if args.build:
        build(args.build)
    out = {}
    for path in args.databases:
        out.update(digests(path.resolve()))
    import web

    print(f"code from {Path(web.__file__).resolve().parents[1]}", file=sys.stderr)
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
