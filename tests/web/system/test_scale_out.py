"""Several app servers share what they must: login-failure limits through Redis when
``TUIYOU_REDIS_URL`` is set (one counter per account across servers, the login form and the API;
the per-address ceiling too) (tests start their own redis-server on a private socket), and
gunicorn warns at start-up when several workers would count per process."""
from __future__ import annotations

import subprocess
import time

import pytest

from testkit import PASSWORD, csrf_token, require_tool
from web.core.gunicorn_conf import shared_state_warning


@pytest.fixture
def redis_url(tmp_path):
    server = require_tool("redis-server")
    socket = tmp_path / "redis.sock"
    process = subprocess.Popen([server, "--port", "0", "--unixsocket", str(socket), "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if socket.exists():
            break
        time.sleep(0.05)
    assert socket.exists(), "redis-server did not start"
    yield f"redis+unix://{socket}"
    process.terminate()
    process.wait(timeout=10)


def api_login(client, password):
    return client.post("/api/v1/tokens", json={"username": "ann", "password": password})


def test_two_app_servers_share_login_limits_through_redis(redis_url, database_url, make_user, tmp_path,
                                                          monkeypatch):
    from web import create_app

    make_user("ann")
    monkeypatch.setenv("TUIYOU_REDIS_URL", redis_url)
    monkeypatch.setenv("TUIYOU_LOGIN_LIMIT_PER_ACCOUNT", "3 per 15 minutes")
    servers = []
    for name in ("one", "two"):
        monkeypatch.setenv("TUIYOU_INSTANCE", str(tmp_path / name))
        servers.append(create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test",
                                   "AUDIT_KEY": "k"}))
    one, two = (s.test_client() for s in servers)
    assert servers[0].config["RATELIMIT_STORAGE_URI"] == redis_url
    assert [api_login(one, "wrong password").status_code for _ in range(3)] == [401, 401, 401]
    assert api_login(two, "wrong password").status_code == 429  # the other server knows
    for server in servers:
        server.extensions["tuiyou.engine"].dispose()


def _two_servers(database_url, tmp_path, monkeypatch):
    from web import create_app

    servers = []
    for name in ("one", "two"):
        monkeypatch.setenv("TUIYOU_INSTANCE", str(tmp_path / name))
        servers.append(create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test",
                                   "AUDIT_KEY": "k"}))
    return servers


def form_login(client, username, password):
    token = csrf_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token}).status_code


def test_one_counter_per_account_across_servers_and_doors(redis_url, database_url, make_user, tmp_path, monkeypatch):
    """Failures on the form of one server and the API of another add up to one account's five."""
    make_user("ann")
    monkeypatch.setenv("TUIYOU_REDIS_URL", redis_url)
    servers = _two_servers(database_url, tmp_path, monkeypatch)
    one, two = (s.test_client() for s in servers)
    assert [form_login(one, "ann", "wrong password") for _ in range(3)] == [401, 401, 401]
    assert [api_login(two, "wrong password").status_code for _ in range(2)] == [401, 401]
    assert form_login(one, "ann", PASSWORD) == 429
    assert api_login(two, PASSWORD).status_code == 429
    for server in servers:
        server.extensions["tuiyou.engine"].dispose()


def test_the_address_ceiling_is_shared_across_servers(redis_url, database_url, make_user, tmp_path, monkeypatch):
    make_user("ann")
    monkeypatch.setenv("TUIYOU_REDIS_URL", redis_url)
    monkeypatch.setenv("TUIYOU_LOGIN_LIMIT_PER_ADDRESS", "6 per 15 minutes")
    servers = _two_servers(database_url, tmp_path, monkeypatch)
    one, two = (s.test_client() for s in servers)
    for n in range(3):
        assert form_login(one, f"guess{n}", "wrong password") == 401
        assert two.post("/api/v1/tokens", json={"username": f"other{n}", "password": "wrong"}).status_code == 401
    assert api_login(one, PASSWORD).status_code == 429
    for server in servers:
        server.extensions["tuiyou.engine"].dispose()


def test_without_redis_each_process_counts_alone(database_url, make_user, tmp_path, monkeypatch):
    from web import create_app

    make_user("ann")
    monkeypatch.delenv("TUIYOU_REDIS_URL", raising=False)
    monkeypatch.setenv("TUIYOU_LOGIN_LIMIT_PER_ACCOUNT", "3 per 15 minutes")
    servers = []
    for name in ("one", "two"):
        monkeypatch.setenv("TUIYOU_INSTANCE", str(tmp_path / name))
        servers.append(create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test"}))
    assert servers[0].config["RATELIMIT_STORAGE_URI"] == "memory://"
    one, two = (s.test_client() for s in servers)
    assert [api_login(one, "wrong password").status_code for _ in range(4)] == [401, 401, 401, 429]
    assert api_login(two, "wrong password").status_code == 401  # why several workers need Redis
    for server in servers:
        server.extensions["tuiyou.engine"].dispose()


def test_gunicorn_warns_about_several_workers_without_redis():
    assert "TUIYOU_REDIS_URL" in shared_state_warning(3, {})
    assert shared_state_warning(3, {"TUIYOU_REDIS_URL": "redis://127.0.0.1:6379/0"}) is None
    assert shared_state_warning(1, {}) is None
