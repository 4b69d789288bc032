"""What an export shows: the signed snapshot when the round is signed, else the current proposal.

Built from plain data (the snapshot's JSON or the console's ShortlistView), so the CSV, XLSX
and PDF writers need no database. Times are kept as UTC datetimes and written by
``web.core.timefmt`` in the configured zone.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from scoring.rules.config import load_rules
from scoring.rules.documents import DocumentRule, load_document_rule

from ..core.timefmt import moment
from .labels import SKIP_REASONS, STATE_LABELS, category_method_text, method_label
from .titles import DocumentTitle

COLUMNS = ("rank", "title", "category", "score", "se", "rank_low", "rank_high", "n_ratings",
           "p_shortlist", "included", "proposed", "straddles_cut", "change", "override_reason", "override_by",
           "override_at", "note")
HEADERS_ZH = {"rank": "名次", "title": "作品名称", "category": "类别", "score": "标准化得分", "se": "标准误",
              "rank_low": "名次区间下限", "rank_high": "名次区间上限", "n_ratings": "评分数",
              "p_shortlist": "入选概率", "included": "入选", "proposed": "系统建议",
              "straddles_cut": "跨越入选线", "change": "组长调整", "override_reason": "组长调整理由",
              "override_by": "调整人", "override_at": "调整时间", "note": "说明"}
NUMERIC = ("rank", "score", "se", "rank_low", "rank_high", "n_ratings", "p_shortlist")
DRAFT_MARK = "草稿 · 未签署"


@dataclass(frozen=True)
class Member:
    """One line of the signature block: the chair or a panel member, signed or not."""

    name: str
    role: str  # "chair" or "member"
    signed_at: dt.datetime | None = None
    dissent: str | None = None

    @property
    def role_label(self) -> str:
        return "评审组组长" if self.role == "chair" else "评审专家"


@dataclass(frozen=True)
class AnnexItem:
    """An abnormal rating (畸高/畸低) the sign-off relied on: its author's explanation or the chair's waiver."""

    expert: str
    title: str
    category: str
    direction: str
    explanation: str | None
    explained_at: dt.datetime | None
    waiver: str | None
    waived_by: str | None
    waived_at: dt.datetime | None


@dataclass
class ExportDocument:
    """A shortlist (or the full rankings) ready to be written in any format."""

    round_key: str
    title: DocumentTitle
    issuer: str
    method: str
    params: dict
    state: str  # signed / proposed / unsaved
    scope: str  # shortlist / rankings
    sha256: str | None
    version: int | None
    signed_at: dt.datetime | None
    generated_at: dt.datetime
    rows: list[dict]
    members: list[Member] = field(default_factory=list)
    # The audit log's sealed head (COUNT:HASH): at the signing for a signed version, now for a draft.
    audit_head: str | None = None
    categories_used: list[dict] = field(default_factory=list)  # {category, method_used, code, codes, reason, checks}
    annex: list[AnnexItem] = field(default_factory=list)
    rule: DocumentRule = field(default_factory=load_document_rule)

    @property
    def draft(self) -> bool:
        return self.state != "signed"

    @property
    def audit_label(self) -> str:
        """审计锚点 (the sealed head at the signing, what ``tuiyou audit verify --anchor`` checks) on a
        signed version; 审计日志头部 (the head as exported) on a draft."""
        return "审计日志头部" if self.draft else "审计锚点"

    @property
    def state_label(self) -> str:
        if self.state == "signed":
            return f"已签署（第 {self.version} 版，{moment(self.signed_at, rule=self.rule)}）"
        return STATE_LABELS.get(self.state, self.state)

    @property
    def round_label(self) -> str:
        return self.title.full

    @property
    def method_label(self) -> str:
        return method_label(self.method)

    @property
    def signed(self) -> list[Member]:
        return [m for m in self.members if m.signed_at is not None]

    @property
    def unsigned(self) -> list[Member]:
        return [m for m in self.members if m.signed_at is None]

    def when(self, value) -> str:
        """A time as this document writes it (2026年12月6日 16:25 北京时间)."""
        return moment(value, rule=self.rule)

    def categories(self) -> list[tuple[str, list[dict]]]:
        """Rows grouped by category, in the configured order of categories (then any other)."""
        order = {name: i for i, name in enumerate(load_rules().category_names)}
        groups: dict[str, list[dict]] = {}
        for row in self.rows:
            groups.setdefault(row["category"], []).append(row)
        return sorted(groups.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))

    def method_lines(self) -> list[tuple[str, str]]:
        """(category, how it was computed) for each category shown, the fall-backs with their reason."""
        used = {c["category"]: c for c in self.categories_used}
        return [(name, category_method_text(used.get(name, {}), self.method)) for name, _rows in self.categories()]

    def method_summary(self) -> list[str]:
        """The PDF's short form: one line when every category used the method asked for, else the
        categories that fell back (with why) and one line for the rest."""
        used = {c["category"]: c for c in self.categories_used}
        fallen = [(name, text) for name, text in self.method_lines()
                  if used.get(name, {}).get("method_used", self.method) != self.method]
        rest = "其余类别" if fallen else "各类别均"
        return [f"{name}：{text}" for name, text in fallen] + [f"{rest}按{self.method_label}计算"]

    @property
    def filename_stem(self) -> str:
        kind = "shortlist" if self.scope == "shortlist" else "rankings"
        return f"{self.round_key}-{kind}" + (f"-v{self.version}" if not self.draft else "-草稿")


def change_of(row: dict) -> str:
    """调入 / 调出 / 调整 for an entry the chair moved (with a reason), "" otherwise."""
    if not row.get("override_reason"):
        return ""
    if row.get("included") and not row.get("proposed"):
        return "调入"
    if row.get("proposed") and not row.get("included"):
        return "调出"
    return "调整"


def note_of(row: dict, params: dict) -> str:
    """Why the row reads as it does: the chair's move and reason, a skipped rank, 跨越入选线."""
    parts = []
    change = change_of(row)
    if change:
        parts.append(f"组长{change}：{row['override_reason']}")
    elif not row.get("included"):
        reason = row.get("reason") or ("ineligible" if str(row.get("item_id")) in (params.get("ineligible") or {})
                                       else "below_min_score" if params.get("threshold") is not None
                                       and row.get("score") is not None and row["score"] < params["threshold"]
                                       else "beyond_slots")
        parts.append(f"未入选：{SKIP_REASONS.get(reason, reason)}")
    if row.get("straddles_cut"):
        parts.append("跨越入选线")
    return "；".join(parts)


def _scope(rows: list[dict], scope: str) -> list[dict]:
    """The rankings: every row. The shortlist: the included works, each moved out with its reason,
    and each work whose rank the list skips (so a gap in the ranks is explained on the page)."""
    if scope != "shortlist":
        return rows
    last: dict[str, int] = {}
    for row in rows:
        if row["included"]:
            last[row["category"]] = max(last.get(row["category"], 0), row["rank"])
    return [r for r in rows if r["included"] or r.get("override_reason") or r["rank"] < last.get(r["category"], 0)]


def _decorate(rows: list[dict], params: dict) -> list[dict]:
    return [{**row, "change": change_of(row), "note": note_of(row, params)} for row in rows]


def from_snapshot(*, round_key: str, title: DocumentTitle, issuer: str, content_text: str, sha256: str,
                  version: int, signed_at: dt.datetime, members: list[Member], scope: str,
                  audit_head: str | None = None, categories_used: list[dict] | None = None,
                  annex: list[AnnexItem] | None = None, rule: DocumentRule | None = None) -> ExportDocument:
    """An export of a signed version (exactly the frozen entries, each beside its frozen override)."""
    content = json.loads(content_text)
    moves = {o["item_id"]: o for o in content.get("overrides", [])}
    entries = [{**e, **{k: moves[e["item_id"]].get(k) for k in ("override_reason", "override_by", "override_at")}}
               if e["item_id"] in moves else {**e, "override_reason": None} for e in content["entries"]]
    params = content["params"]
    return ExportDocument(round_key, title, issuer, content["method"], params, "signed", scope, sha256, version,
                          signed_at, _now(), _decorate(_scope(entries, scope), params), members, audit_head,
                          list(categories_used or []), list(annex or []), rule or load_document_rule())


def from_view(*, round_key: str, title: DocumentTitle, issuer: str, method: str, params: dict, state: str,
              entries: list[dict], scope: str, members: list[Member], audit_head: str | None = None,
              categories_used: list[dict] | None = None, annex: list[AnnexItem] | None = None,
              rule: DocumentRule | None = None) -> ExportDocument:
    """An export of the current (unsigned) proposal: a draft, no snapshot hash."""
    return ExportDocument(round_key, title, issuer, method, params, state, scope, None, None, None, _now(),
                          _decorate(_scope(entries, scope), params), members, audit_head,
                          list(categories_used or []), list(annex or []), rule or load_document_rule())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def cell(row: dict, column: str, doc: ExportDocument):
    """A row's value for a column as written to files: numbers as numbers, booleans as 是/否, times
    in the document's zone, None as blank."""
    value = row.get(column)
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None:
        return ""
    if column in ("score", "se", "p_shortlist"):
        return round(float(value), 3)
    if column == "override_at":
        return doc.when(value)
    return value
