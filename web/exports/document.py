"""What an export shows: the signed snapshot when the round is signed, else the current proposal.

Built from plain data (the snapshot's JSON or the console's ShortlistView), so the CSV, XLSX
and PDF writers need no database.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from scoring.rules.config import load_rules

COLUMNS = ("rank", "title", "category", "score", "se", "rank_low", "rank_high", "n_ratings",
           "p_shortlist", "included", "proposed", "straddles_cut", "override_reason")
HEADERS_ZH = {"rank": "名次", "title": "作品名称", "category": "类别", "score": "标准化得分", "se": "标准误",
              "rank_low": "名次区间下限", "rank_high": "名次区间上限", "n_ratings": "评分数",
              "p_shortlist": "入选概率", "included": "入选", "proposed": "系统建议",
              "straddles_cut": "跨越入选线", "override_reason": "组长调整理由"}
METHOD_NAMES = {"raw": "原始均值 raw", "trimmed": "去掉最高最低分 trimmed", "zscore": "评委标准化 z-score",
                "additive": "加性偏差模型 additive", "affine": "仿射偏差模型 affine"}


@dataclass
class ExportDocument:
    """A shortlist (or the full rankings) ready to be written in any format."""

    round_key: str
    round_label: str
    method: str
    params: dict
    state: str  # signed / proposed / unsaved
    scope: str  # shortlist / rankings
    sha256: str | None
    version: int | None
    signed_at: str | None
    generated_at: str
    rows: list[dict]
    signatures: list[dict] = field(default_factory=list)
    unsigned: list[str] = field(default_factory=list)  # panel members who have not signed
    # The audit log's sealed head at the signing (COUNT:HASH): `tuiyou audit verify --anchor` checks it.
    audit_anchor: str | None = None

    def categories(self) -> list[tuple[str, list[dict]]]:
        """Rows grouped by category, in the configured order of categories (then any other)."""
        order = {name: i for i, name in enumerate(load_rules().category_names)}
        groups: dict[str, list[dict]] = {}
        for row in self.rows:
            groups.setdefault(row["category"], []).append(row)
        return sorted(groups.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))

    @property
    def method_label(self) -> str:
        return METHOD_NAMES.get(self.method, self.method)

    @property
    def filename_stem(self) -> str:
        return f"{self.round_key}-{'shortlist' if self.scope == 'shortlist' else 'rankings'}" + \
            (f"-v{self.version}" if self.version else "-draft")


def _scope(rows: list[dict], scope: str) -> list[dict]:
    return [r for r in rows if r["included"]] if scope == "shortlist" else rows


def from_snapshot(*, round_key: str, round_label: str, content_text: str, sha256: str, version: int,
                  signed_at: dt.datetime, signatures: list[dict], scope: str,
                  unsigned: list[str] | None = None, audit_anchor: str | None = None) -> ExportDocument:
    """An export of a signed version (exactly the frozen entries, each beside its frozen override reason)."""
    content = json.loads(content_text)
    reasons = {o["item_id"]: o["override_reason"] for o in content.get("overrides", [])}
    entries = [{**e, "override_reason": reasons.get(e["item_id"])} for e in content["entries"]]
    return ExportDocument(round_key, round_label, content["method"], content["params"], "signed", scope, sha256,
                          version, signed_at.isoformat(timespec="seconds"), _now(),
                          _scope(entries, scope), signatures, list(unsigned or []), audit_anchor)


def from_view(*, round_key: str, round_label: str, method: str, state: str, entries: list[dict],
              scope: str) -> ExportDocument:
    """An export of the current (unsigned) proposal: marked as a draft, no hash."""
    return ExportDocument(round_key, round_label, method, {}, state, scope, None, None, None, _now(),
                          _scope(entries, scope))


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def cell(row: dict, column: str):
    """A row's value for a column as written to files (booleans as 是/否, None as blank)."""
    value = row.get(column)
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None:
        return ""
    if column in ("score", "se"):
        return round(float(value), 3)
    if column == "p_shortlist":
        return round(float(value), 3)
    return value
