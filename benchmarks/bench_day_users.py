"""The locustfile of benchmarks/bench_day.py: who does what on a national review day.

- ``Expert`` (every user but two): an expert on a tablet, scoring their open forms one criterion
  at a time (an autosave per tap, every 4-12 s), submitting a form once every criterion has a
  value; each save carries the version of its last answer and a fresh Idempotency-Key. Every
  acknowledged save and submit is written to ``TUIYOU_DAY_ACKS`` (JSON lines) for the check
  afterwards.
- ``Chair`` (one): refreshes the rankings page, the rankings API and the progress board every
  2-5 s (the board with If-None-Match, as the page's polling does).
- ``Admin`` (one): the progress board open, polling every 10 s with If-None-Match.

Configuration from the environment (bench_day.py sets it): TUIYOU_DAY_HOSTS (comma-separated
base URLs, users spread over them), TUIYOU_DAY_TOKENS (a JSON file: expert bearer tokens),
TUIYOU_DAY_ROUND, TUIYOU_DAY_PASSWORD (chair and admin), TUIYOU_DAY_ACKS.
"""
from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading
import uuid

from locust import HttpUser, between, events, task

HOSTS = os.environ.get("TUIYOU_DAY_HOSTS", "http://127.0.0.1:8000").split(",")
ROUND = os.environ.get("TUIYOU_DAY_ROUND", "2026Q3")
PASSWORD = os.environ.get("TUIYOU_DAY_PASSWORD", "")
_tokens = json.loads(open(os.environ["TUIYOU_DAY_TOKENS"]).read()) if os.environ.get("TUIYOU_DAY_TOKENS") else []
_next_token = itertools.count()
_next_host = itertools.count()
_acks = open(os.environ.get("TUIYOU_DAY_ACKS", os.devnull), "a", buffering=1)
_acks_lock = threading.Lock()


def _ack(record: dict) -> None:
    with _acks_lock:
        _acks.write(json.dumps(record) + "\n")


class _OnAServer(HttpUser):
    abstract = True
    host = HOSTS[0]

    def on_start(self) -> None:
        self.client.base_url = HOSTS[next(_next_host) % len(HOSTS)]

    def log_in(self, username: str) -> None:
        page = self.client.get("/login", name="login form").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        self.client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf},
                         name="login", allow_redirects=False)


class Expert(_OnAServer):
    wait_time = between(4, 12)

    def on_start(self) -> None:
        super().on_start()
        self.token = _tokens[next(_next_token) % len(_tokens)]
        self.headers = {"Authorization": f"Bearer {self.token}"}
        forms = self.client.get("/api/v1/assignments", headers=self.headers, name="expert: list assignments").json()
        self.open = [f for f in forms if f["status"] in ("pending", "in_progress")]
        random.shuffle(self.open)

    @task
    def score(self) -> None:
        if not self.open:
            return
        form = self.open[0]
        keys = [c["key"] for c in form["criteria"]]
        missing = [k for k in keys if k not in form["scores"]]
        if not missing and random.random() < 0.5:
            answer = self.client.post(f"/api/v1/assignments/{form['id']}/submit", headers=self.headers,
                                      name="expert: submit")
            if answer.status_code == 200:
                _ack({"kind": "submit", "assignment": form["id"], "version": form["version"]})
                self.open.pop(0)
            return
        key = missing[0] if missing else random.choice(keys)
        value = float(random.choice([6.0, 6.5, 7.0, 7.5, 8.0, 8.5, 9.0]))
        answer = self.client.put(f"/api/v1/assignments/{form['id']}/scores", headers={
            **self.headers, "Idempotency-Key": uuid.uuid4().hex}, json={"scores": {key: value},
                                                                        "version": form["version"]},
            name="expert: save")
        if answer.status_code == 200:
            form["version"] = answer.json()["version"]
            form["scores"] = {**form["scores"], key: value}
            _ack({"kind": "save", "assignment": form["id"], "version": form["version"], "scores": form["scores"]})


class Chair(_OnAServer):
    fixed_count = 1
    wait_time = between(2, 5)

    def on_start(self) -> None:
        super().on_start()
        self.log_in("chair")
        self.etag = None
        token = self.client.post("/api/v1/tokens", json={"username": "chair", "password": PASSWORD},
                                 name="chair: token").json()["token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    @task
    def refresh(self) -> None:
        self.client.get(f"/review/{ROUND}/rankings", name="chair: rankings page")
        self.client.get(f"/api/v1/rounds/{ROUND}/rankings", headers=self.headers, name="chair: rankings API")
        headers = {"If-None-Match": self.etag} if self.etag else {}
        answer = self.client.get(f"/rounds/{ROUND}/progress/live", headers=headers, name="chair: progress board")
        self.etag = answer.headers.get("ETag", self.etag)


class Admin(_OnAServer):
    fixed_count = 1
    wait_time = between(10, 10)

    def on_start(self) -> None:
        super().on_start()
        self.log_in("admin")
        self.client.get(f"/rounds/{ROUND}/progress", name="admin: progress page")
        self.etag = None

    @task
    def poll(self) -> None:
        headers = {"If-None-Match": self.etag} if self.etag else {}
        answer = self.client.get(f"/rounds/{ROUND}/progress/live", headers=headers, name="admin: progress board")
        self.etag = answer.headers.get("ETag", self.etag)


@events.quitting.add_listener
def _close(environment, **_kwargs) -> None:
    _acks.close()
