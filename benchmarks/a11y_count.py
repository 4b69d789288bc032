"""Count axe-core's findings on every page of a running demo, as each role, at 768×1024 and 1024×768.

    tuiyou demo --port 5000 &      # then
    python benchmarks/a11y_count.py http://127.0.0.1:5000

Prints one line per finding and the totals (the figures in docs/accessibility.md). Uses the
crawl and the rule set of tests/web/helpers/a11y.py, so the count is the one the suite checks.
"""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "tests"), str(Path(__file__).resolve().parents[1] / "tests" / "web")]

from helpers.a11y import VIEWPORTS, audit  # noqa: E402
from testkit import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

ROLES = ("expert01", "chair", "admin")


def main(base: str, password: str = "tuiyou-demo") -> int:
    from playwright.sync_api import sync_playwright

    total, by_rule, pages_seen = 0, Counter(), set()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for n, role in enumerate(ROLES):
            pages, findings = audit(browser, base, role, password, VIEWPORTS, with_login=n == 0)
            pages_seen.update((role, p) for p in pages)
            for f in findings:
                print(f"{role} {f}")
                by_rule[f.rule] += 1
            total += len(findings)
            print(f"# {role}: {len(pages)} pages x {len(VIEWPORTS)} sizes, {len(findings)} findings", flush=True)
        browser.close()
    print(f"# total: {total} findings (rule × page × role × size) on {len(pages_seen)} role-pages; by rule: "
          + ", ".join(f"{rule} {n}" for rule, n in by_rule.most_common()))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
