"""Start-up's heap is frozen out of the collector's walks in every server process
(``web.core.heap``): a full collection then walks what requests made, not the modules, the
app and its schemas (on this machine 70-160 ms of CPU per full collection otherwise)."""
from __future__ import annotations

import gc

import pytest

from web.core import gunicorn_conf
from web.core.heap import settle


@pytest.fixture
def unfrozen():
    """Each test starts and ends with nothing frozen (the test process is no server)."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_settle_takes_what_lives_out_of_the_collectors_walks(unfrozen):
    kept = [[index] for index in range(20_000)]  # long-lived containers, as start-up's are
    cycle = [[]]
    cycle[0].append(cycle)  # garbage of start-up: collected, never frozen
    del cycle
    walked_before = len(gc.get_objects())
    frozen = settle()
    assert frozen >= len(kept)
    # a frozen object is still freed when its last reference goes (another thread's, say
    # pytest-xdist's channel), so the count can only have shrunk since settle() answered
    assert len(kept) <= gc.get_freeze_count() <= frozen
    assert len(gc.get_objects()) < walked_before / 10
    assert not [obj for obj in gc.get_objects() if obj is kept]
    made_after = [[1], [2]]
    assert any(obj is made_after[0] for obj in gc.get_objects())  # what requests make is walked as usual


def test_each_gunicorn_worker_settles_once_its_app_is_built(unfrozen):
    assert gc.get_freeze_count() == 0
    gunicorn_conf.post_worker_init(object())
    assert gc.get_freeze_count() > 0


def test_tuiyou_serve_settles_before_it_serves(unfrozen, monkeypatch):
    import waitress

    from web.system.cli import serve_app

    seen = []
    monkeypatch.setattr(waitress, "serve", lambda app, **kwargs: seen.append(gc.get_freeze_count()))
    serve_app(object(), host="127.0.0.1", port=0)
    assert seen and seen[0] > 0


def test_the_recompute_worker_settles_before_it_works(unfrozen, monkeypatch, app):
    from web.recompute import cli, worker

    seen = []
    monkeypatch.setattr(worker, "work_forever", lambda engine: seen.append(gc.get_freeze_count()))
    with app.app_context():
        result = app.test_cli_runner().invoke(cli.worker_command, [])
    assert result.exit_code == 0, result.output
    assert seen and seen[0] > 0
