"""What each of the expert's pages costs a tablet: bytes and requests on the first load and on a reload.

Run by hand: ``.venv/bin/python benchmarks/expert_bytes.py [--json]``.

Builds the demo (``seed/``) into a temporary SQLite file, serves it in this process behind a
WSGI wrapper that counts every response the server sends (status line, headers and body, as
they leave the application: the product does not compress), and drives Debian's Chromium
(Playwright) as ``expert01``. For each page: the first load in a fresh browser (only the login
before it, and the task list before the form, as an expert reaches it), then a reload, which
the HTTP cache and the service worker answer in part. Requests the service worker makes on the
page's behalf (its network-first fetch of the page, its install-time precache, the form's own
offline copy) reach the server and are counted with the page that caused them.

Exits non-zero when the scoring form's first load is 300 KB or more (issue 23's budget).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

BUDGET = 300_000
SETTLE_MS = 1500   # after "load": the service worker's install and the form's offline copy


class Counting:
    """WSGI middleware: how many responses and bytes the server has sent so far."""

    def __init__(self, app):
        self.app, self.requests, self.bytes, self.lock = app, 0, 0, threading.Lock()

    def __call__(self, environ, start_response):
        head = []

        def counting_start(status, headers, exc_info=None):
            head.append(len(status) + 11 + sum(len(k) + len(v) + 4 for k, v in headers))
            return start_response(status, headers, exc_info)

        body = self.app(environ, counting_start)
        try:
            for chunk in body:
                with self.lock:
                    self.bytes += len(chunk)
                yield chunk
        finally:
            if hasattr(body, "close"):
                body.close()
            with self.lock:
                self.requests += 1
                self.bytes += sum(head)

    def snapshot(self) -> tuple[int, int]:
        with self.lock:
            return self.requests, self.bytes


def serve_demo(folder: Path):
    """The demo in a SQLite file under ``folder``, served on a free port; (base URL, counter, server)."""
    import logging

    from werkzeug.serving import make_server

    from web import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)   # the figures, not a log line per request
    db = folder / "demo.sqlite"
    env = {**os.environ, "TUIYOU_INSTANCE": str(folder / "instance")}
    subprocess.run([str(Path(sys.executable).parent / "tuiyou"), "demo", "--db", str(db), "--no-serve"],
                   check=True, env=env, capture_output=True)
    os.environ["TUIYOU_INSTANCE"] = str(folder / "instance")
    app = create_app({"DATABASE_URL": f"sqlite:///{db}"})
    counter = Counting(app.wsgi_app)
    app.wsgi_app = counter
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", counter, server


def measure(page, counter, action) -> dict:
    """Requests and bytes the server sent for ``action`` (a navigation), once the page has settled."""
    before = counter.snapshot()
    action()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(SETTLE_MS)
    after = counter.snapshot()
    return {"requests": after[0] - before[0], "bytes": after[1] - before[1]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from seed.demo import DEMO_PASSWORD
    from testkit import CHROMIUM, CHROMIUM_ARGS

    rows = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        base, counter, server = serve_demo(Path(tmp))
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 768, "height": 1024}, has_touch=True, locale="zh-CN")
        page = context.new_page()
        login = measure(page, counter, lambda: page.goto(f"{base}/login"))
        rows.append({"page": "/login", "first": login})
        page.fill("input[name=username]", "expert01")
        page.fill("input[name=password]", DEMO_PASSWORD)
        home = measure(page, counter, lambda: page.click("button[type=submit]"))
        form = page.locator("a[data-assignment-id]").first.get_attribute("href")
        rows.append({"page": "/ (task list)", "first": home,
                     "reload": measure(page, counter, lambda: page.reload())})
        for label, path in (("scoring form", form), ("conflicts", "/me/conflicts"),
                            ("password", "/account/password"), ("offline page", "/offline")):
            first = measure(page, counter, lambda: page.goto(base + path))
            rows.append({"page": f"{path} ({label})", "first": first,
                         "reload": measure(page, counter, lambda: page.reload())})
        browser.close()
        server.shutdown()
    load = os.getloadavg()
    if args.json:
        print(json.dumps({"rows": rows, "load": load}, ensure_ascii=False, indent=1))
    else:
        print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
        print("| page | first load: requests | first load: KB | reload: requests | reload: KB |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for row in rows:
            again = row.get("reload")
            print(f"| {row['page']} | {row['first']['requests']} | {row['first']['bytes'] / 1000:.1f} | "
                  + (f"{again['requests']} | {again['bytes'] / 1000:.1f} |" if again else "– | – |"))
    form_first = next(r for r in rows if "scoring form" in r["page"])["first"]["bytes"]
    if form_first >= BUDGET:
        print(f"the scoring form's first load is {form_first} bytes, over the {BUDGET} budget", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
