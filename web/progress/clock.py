"""Times as the secretariat reads them: in the configured timezone (``TUIYOU_TIMEZONE``, default
Asia/Shanghai, 北京时间), never UTC."""
from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo


def zone() -> ZoneInfo:
    """The display timezone (read when asked)."""
    return ZoneInfo(os.environ.get("TUIYOU_TIMEZONE") or "Asia/Shanghai")


def local(moment: dt.datetime | None) -> dt.datetime | None:
    """A stored time (aware UTC, or naive UTC from SQLite) in the display timezone."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(zone())


def clock_text(moment: dt.datetime | None, *, with_date: bool = True) -> str:
    """``2025-09-30 14:05:09`` (or ``14:05:09``) in the display timezone; "" for None."""
    shown = local(moment)
    if shown is None:
        return ""
    return shown.strftime("%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S")
