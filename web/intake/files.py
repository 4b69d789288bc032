"""Reading import files (CSV in UTF-8 or GBK, XLSX) into rows (the template and the rejected rows
are written by ``web/exports/import_files.py``). Anything that is not a readable table becomes an :class:`IntakeError`.

Reading happens in the parse worker (``sandbox``) under the caps of ``sheets.Limits``: a file
that would cross one, or take the worker past its memory or time, is refused with
“文件过大或已损坏：…” and what was wrong.
"""
from __future__ import annotations

from pathlib import Path

from flask import current_app, has_app_context

from .sandbox import LimitExceeded, WorkerLimits, run_limited
from ..core.refused import Refused
from .sheets import TOO_LARGE_EN, TOO_LARGE_ZH, FileRefused, Limits, Table, parse_table

__all__ = ["IntakeError", "Limits", "Table", "read_table", "rejected_path", "WORK_EXAMPLE", "CASE_EXAMPLE"]

# The example row of each XLSX template.
WORK_EXAMPLE = ("山河人间", "网络剧", "山河文化传媒有限公司", "机构", "浙江省广播电视局", "省级", "优酷",
                "2025-01-05", "2025-02-20", "（浙）网剧审字（2024）第012号", "山河文化传媒有限公司",
                "否", "否", "否", 24, 45, "一部关于……的网络剧", "https://example.org/works/1")
CASE_EXAMPLE = ("非遗春节主题传播活动", "中央广播电视总台", "2025-01-20 至 2025-02-15", "", "",
                "围绕首个非遗春节开展的……", "抖音、微博、央视频", "累计播放 3.2 亿次", "https://example.org/cases/1")


class IntakeError(Refused):
    """The import cannot go ahead at all (file, round, state or deadline): 422, ``zh`` and ``en`` say why."""

    def __init__(self, zh: str, en: str):
        super().__init__(422, "import_refused", zh, en)


def read_table(data: bytes, filename: str, *, limits: Limits | None = None,
               worker: WorkerLimits | None = None) -> Table:
    """The table in ``data`` (XLSX by content, otherwise CSV in UTF-8 or GBK), read by the parse
    worker under ``limits`` and ``worker`` (defaults: :class:`Limits`, the app's IMPORT_* settings)."""
    if worker is None:
        worker = WorkerLimits.from_settings(current_app.config if has_app_context() else None)
    try:
        return run_limited(parse_table, data, filename, limits or Limits(), limits=worker)
    except FileRefused as exc:
        raise IntakeError(exc.zh, exc.en) from None
    except LimitExceeded as exc:
        raise IntakeError(f"{TOO_LARGE_ZH}：{exc.zh}", f"{TOO_LARGE_EN}: {exc.en}") from None


def rejected_path(source: Path) -> Path:
    """Where the rejected rows of ``source`` go: ``FILE.rejected.csv`` next to it."""
    return source.with_name(source.name + ".rejected.csv")
