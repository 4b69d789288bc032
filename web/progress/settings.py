"""The board's settings and when it shows: read when asked, from the app's config or the
environment (``TUIYOU_PROGRESS_IDLE_MINUTES``, ``TUIYOU_PROGRESS_POLL_SECONDS``)."""
from __future__ import annotations

import os

from flask import current_app

from ..core.models import RoundState

#: the states in which a round has progress to show
SHOWN_STATES = (RoundState.scoring, RoundState.review, RoundState.signed)


def idle_minutes() -> float:
    """Minutes without a save after which an expert with open forms counts as stalled
    (``PROGRESS_IDLE_MINUTES`` / ``TUIYOU_PROGRESS_IDLE_MINUTES``, default 30)."""
    configured = current_app.config.get("PROGRESS_IDLE_MINUTES")
    return float(configured if configured is not None else os.environ.get("TUIYOU_PROGRESS_IDLE_MINUTES") or 30)


def poll_seconds() -> float:
    """How often the page asks for changes (``PROGRESS_POLL_SECONDS`` / ``TUIYOU_PROGRESS_POLL_SECONDS``,
    default 10)."""
    return float(current_app.config.get("PROGRESS_POLL_SECONDS") or os.environ.get("TUIYOU_PROGRESS_POLL_SECONDS")
                 or 10)
