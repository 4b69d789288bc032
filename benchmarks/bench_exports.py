"""Export speed (issues 21 and 24): the 500-entry shortlist PDF, and the full-round rankings of
5,000 works as PDF, XLSX and CSV, written from a document in memory (no database: what the
writers cost). Prints the median of ``--runs`` runs each and the machine's load.

    .venv/bin/python benchmarks/bench_exports.py [--runs 3]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoring.rules.config import load_rules  # noqa: E402
from web.exports.document import ExportDocument, Member, _decorate  # noqa: E402
from web.exports.pdf import to_pdf  # noqa: E402
from web.exports.tabular import to_csv, to_xlsx  # noqa: E402
from web.exports.titles import document_title  # noqa: E402

UTC = dt.timezone.utc
PARAMS = {"band": 0.9, "seed": 1, "threshold": 6.0, "format": 2}


def rows(n: int, *, shortlist: bool) -> list[dict]:
    """``n`` entries over the 11 categories; every 50th moved by the chair with a reason."""
    categories = load_rules().category_names
    out = []
    for i in range(n):
        rank = i // len(categories) + 1
        moved = i % 50 == 0
        included = True if shortlist else rank <= 10
        out.append({"item_id": i, "rank": rank, "title": f"网络视听精品作品第{i:04d}号·山河岁月",
                    "category": categories[i % len(categories)], "score": 8.5 - i / 1000, "se": 0.12,
                    "rank_low": max(1, rank - 1), "rank_high": rank + 2, "n_ratings": 5, "p_shortlist": 0.9,
                    "included": included, "proposed": included and not moved, "straddles_cut": i % 7 == 0,
                    "override_reason": "紧扣主题主线，传播效果突出" if moved and included else None,
                    "override_by": "李组长" if moved and included else None,
                    "override_at": "2026-12-06T08:00:00+00:00" if moved and included else None})
    return out


def document(n: int, scope: str) -> ExportDocument:
    members = [Member("李组长", "chair", dt.datetime(2026, 12, 6, 8, 25, tzinfo=UTC))] + \
        [Member(f"专家{i:02d}", "member", dt.datetime(2026, 12, 6, 9, i, tzinfo=UTC) if i % 3 else None,
                "保留意见：名额偏少" if i == 4 else None) for i in range(20)]
    title = document_title(year=2025, quarter=3, kind="quarter", stage="national", unit=None, document=scope)
    return ExportDocument("2025Q3", title, "国家广播电视总局网络视听节目管理司", "affine", PARAMS, "signed", scope,
                          "a" * 64, 1, dt.datetime(2026, 12, 6, 8, 25, tzinfo=UTC), dt.datetime.now(UTC),
                          _decorate(rows(n, shortlist=scope == "shortlist"), PARAMS), members, "1234:" + "b" * 64)


def timed(fn, runs: int) -> tuple[float, float, int]:
    """Median wall seconds, median CPU seconds of this process (steadier on a shared machine), size."""
    walls, cpus, size = [], [], 0
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        size = len(fn())
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    short, full = document(500, "shortlist"), document(5000, "rankings")
    print(f"start: load average {os.getloadavg()[0]:.2f}")
    for label, fn in (("PDF, shortlist of 500", lambda: to_pdf(short)), ("PDF, rankings of 5,000", lambda: to_pdf(full)),
                      ("XLSX, rankings of 5,000", lambda: to_xlsx(full)), ("CSV, rankings of 5,000", lambda: to_csv(full))):
        seconds, cpu, size = timed(fn, args.runs)
        print(f"{label}: median {seconds:.2f} s wall, {cpu:.2f} s CPU ({size / 1024:.0f} KB)")
    print(f"end: load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
