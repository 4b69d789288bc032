"""Re-deriving a signed result (``tuiyou result verify KEY [--version N]``).

From the rating rows in the database that were current at signing (each rating row's version
is in the snapshot), the method, parameters, seeds and proposal policy the snapshot recorded,
and the chair's overrides it froze, recompute the ranking and the shortlist with the same code
the sign-off ran (``compute_ranking``, ``propose``, ``snapshot.build_content``) and compare:

1. the stored snapshot text still hashes to its stored SHA-256, and the audit log's
   ``shortlist.signed`` event of that version records the same hash (the log is sealed with a
   key outside the database, so rewriting a snapshot and its hash together is caught here);
2. every rating row the snapshot froze is still in the database with the same value (a row
   changed, removed or added behind the app's back is named with its work);
3. the recomputed snapshot's SHA-256 equals the signed one (bit for bit), or else every
   rank, band, count and decision is equal and every score and SE is within
   ``SCORE_TOLERANCE`` and every P(shortlist) within ``P_TOLERANCE`` (floating point across
   machines and library versions; see docs/review.md). Otherwise the works that differ are named.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from sqlmodel import Session, select

from scoring.rules.shortlist import propose
from scoring.totals import CriterionScale

from ..core.models import Assignment, AuditEvent, Rating, ResultVersion, Round, RoundKind, RoundState
from ..signing import snapshot
from ..signing.queries import result_versions
from . import queries
from .rankings import RatingInput, compute_ranking

#: Scores and SEs are stored rounded to 6 decimals; across machines they may differ in the last bits.
SCORE_TOLERANCE = 1e-4
#: P(shortlist) is a bootstrap share: a score moved by 1e-12 can move one draw across the cut.
P_TOLERANCE = 0.01
EXACT = ("title", "category", "rank", "rank_low", "rank_high", "n_ratings", "proposed", "included", "straddles_cut")


@dataclass
class Finding:
    """One difference, tied to the work (or case) it concerns when there is one."""

    item_id: int | None
    zh: str
    en: str
    kind: str = "result"  # "rating": an input row differs; "result": a recomputed entry; "round": the round itself


@dataclass
class Verification:
    """The outcome of re-deriving one signed version."""

    round_key: str
    version: int
    stored_sha256: str
    recomputed_sha256: str = ""
    stored_text_intact: bool = True
    audit_matches: bool = True
    bit_for_bit: bool = False
    findings: list[Finding] = field(default_factory=list)  # each one means it does not reproduce
    notes: list[tuple[str, str]] = field(default_factory=list)  # (zh, en) what was assumed, tolerances used
    titles: dict[int, str] = field(default_factory=dict)

    @property
    def reproduced(self) -> bool:
        return self.stored_text_intact and self.audit_matches and not self.findings

    def items(self) -> list[int]:
        """The works (or cases) named by a finding, in order."""
        return sorted({f.item_id for f in self.findings if f.item_id is not None})


class VerifyError(ValueError):
    """Nothing to verify (unknown round, no signed version); ``zh`` and ``en`` say why."""

    def __init__(self, zh: str, en: str):
        self.zh, self.en = zh, en
        super().__init__(f"{zh} / {en}")


def _signed_version(session: Session, round_: Round, number: int | None) -> ResultVersion:
    versions = result_versions(session=session, round_=round_)
    if not versions:
        raise VerifyError(f"轮次 {round_.key} 没有已签署的结果", f"round {round_.key} has no signed result")
    if number is None:
        return versions[-1]
    for version in versions:
        if version.version == number:
            return version
    raise VerifyError(f"轮次 {round_.key} 没有第 {number} 版（已有：{'、'.join(str(v.version) for v in versions)}）",
                      f"round {round_.key} has no version {number} (it has {', '.join(str(v.version) for v in versions)})")


def _audit_hash(session: Session, round_: Round, number: int) -> str | None:
    for event in session.exec(select(AuditEvent).where(AuditEvent.round_id == round_.id,
                                                       AuditEvent.action == "shortlist.signed")
                              .order_by(AuditEvent.id)):
        if event.detail.get("version") == number:
            return event.detail.get("sha256")
    return None


def _stored_rows(session: Session, round_: Round, signed: list[list], signed_at, legacy: bool) -> list[list]:
    """The database's rating rows for the assignments and versions the snapshot froze, in its row shape."""
    assignment_ids = sorted({row[0] for row in signed})
    case = round_.kind == RoundKind.dissemination
    assignments = {a.id: a for a in session.exec(select(Assignment).where(Assignment.id.in_(assignment_ids)))} \
        if assignment_ids else {}
    ratings = list(session.exec(select(Rating).where(Rating.assignment_id.in_(assignment_ids)))) \
        if assignment_ids else []
    if legacy:  # format 1 did not record versions: the latest saved before the signature
        latest: dict[int, int] = {}
        for r in ratings:
            if r.created_at <= signed_at:
                latest[r.assignment_id] = max(latest.get(r.assignment_id, 0), r.version)
        version_of = latest
    else:
        version_of = {row[0]: row[5] for row in signed}
    signed_confidence = {row[0]: row[6] for row in signed} if not legacy else {}
    rows = []
    for r in sorted(ratings, key=lambda r: (r.assignment_id, r.criterion)):
        a = assignments[r.assignment_id]
        if r.version != version_of.get(a.id):
            continue
        item = a.case_id if case else a.work_id
        if legacy:
            rows.append([a.id, a.expert_id, item, r.criterion, float(r.value)])
            continue
        confidence = a.confidence
        if a.version != version_of[a.id]:  # saved again after a re-opening: the confidence then is the snapshot's
            confidence = signed_confidence[a.id]
        rows.append([a.id, a.expert_id, item, r.criterion, float(r.value), r.version, confidence])
    return rows


def _compare_ratings(signed: list[list], stored: list[list], report: Verification, expert_names: dict) -> None:
    def keyed(rows):
        return {(row[0], row[3]): row for row in rows}

    before, now = keyed(signed), keyed(stored)
    for key in sorted(set(before) | set(now), key=lambda k: (k[0], k[1])):
        old, new = before.get(key), now.get(key)
        row = old or new
        assignment, criterion, item = key[0], key[1], row[2]
        who = expert_names.get(row[1], str(row[1]))
        where_zh = f"任务 {assignment}（{who}）的“{criterion}”"
        where_en = f"assignment {assignment} ({who}), criterion {criterion}"
        if new is None:
            report.findings.append(Finding(item, f"{where_zh}：签署时的评分行已不在数据库中（签署值 {old[4]:g}）",
                                           f"{where_en}: the signed rating row is gone (signed value {old[4]:g})",
                                           "rating"))
        elif old is None:
            report.findings.append(Finding(item, f"{where_zh}：数据库中多出一行签署时没有的评分（{new[4]:g}）",
                                           f"{where_en}: a rating row the signature did not include ({new[4]:g})",
                                           "rating"))
        elif old[4] != new[4]:
            report.findings.append(Finding(item, f"{where_zh}：签署值 {old[4]:g}，数据库现为 {new[4]:g}",
                                           f"{where_en}: signed {old[4]:g}, the database now holds {new[4]:g}",
                                           "rating"))
        elif old[1:3] != new[1:3]:
            report.findings.append(Finding(item, f"{where_zh}：专家或作品已被改动（签署时 {old[1:3]}，现为 {new[1:3]}）",
                                           f"{where_en}: expert or work changed (signed {old[1:3]}, now {new[1:3]})",
                                           "rating"))
        elif len(old) > 6 and old[6] != new[6]:
            report.findings.append(Finding(item, f"{where_zh}：置信度签署时为 {old[6]}，现为 {new[6]}",
                                           f"{where_en}: confidence signed {old[6]}, now {new[6]}", "rating"))


def _still_current(session: Session, round_: Round, signed: list[list], report: Verification) -> None:
    """While the version is the round's live signature, the submitted ratings must be exactly the signed ones."""
    live = {(row[0], row[3]) for row in queries.signing_inputs(session=session, round_=round_)}
    frozen = {(row[0], row[3]) for row in signed}
    for assignment, criterion in sorted(live - frozen):
        item = session.get(Assignment, assignment)
        report.findings.append(Finding(
            (item.case_id or item.work_id) if item else None,
            f"任务 {assignment} 的“{criterion}”：轮次已签署，却有一条签署后出现的已提交评分",
            f"assignment {assignment}, criterion {criterion}: a submitted rating that appeared after the signature "
            "while the round is signed", "rating"))


def _within(a, b, tolerance: float) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(float(a), float(b), rel_tol=0.0, abs_tol=tolerance)


def _compare_entries(signed: list[dict], recomputed: list[dict], report: Verification) -> bool:
    """Name the works whose recomputed entry differs; True when every difference is within tolerance."""
    before = {e["item_id"]: e for e in signed}
    now = {e["item_id"]: e for e in recomputed}
    exact = True
    for item in sorted(set(before) | set(now)):
        old, new = before.get(item), now.get(item)
        if old is None or new is None:
            report.findings.append(Finding(item, "签署名单中有该作品，重算结果中没有" if new is None else "重算结果中多出该作品",
                                           "on the signed list but not in the recomputation" if new is None
                                           else "in the recomputation but not on the signed list"))
            continue
        changes_zh, changes_en = [], []
        for key in EXACT:
            if old.get(key) != new.get(key):
                changes_zh.append(f"{key} {old.get(key)} → {new.get(key)}")
                changes_en.append(f"{key} {old.get(key)} -> {new.get(key)}")
        for key, tolerance in (("score", SCORE_TOLERANCE), ("se", SCORE_TOLERANCE), ("p_shortlist", P_TOLERANCE)):
            if old.get(key) != new.get(key):
                exact = False
                if not _within(old.get(key), new.get(key), tolerance):
                    changes_zh.append(f"{key} {old.get(key)} → {new.get(key)}")
                    changes_en.append(f"{key} {old.get(key)} -> {new.get(key)}")
        if changes_en:
            report.findings.append(Finding(item, "；".join(changes_zh), "; ".join(changes_en)))
    return exact


def verify_result(*, session: Session, round_: Round, version: int | None = None) -> Verification:
    """Re-derive signed ``version`` (default: the latest) of ``round_`` from its stored ratings."""
    signed = _signed_version(session, round_, version)
    report = Verification(round_.key, signed.version, signed.content_sha256)
    report.stored_text_intact = snapshot.verify(signed.content, signed.content_sha256)
    audit = _audit_hash(session, round_, signed.version)
    report.audit_matches = audit == signed.content_sha256
    content = json.loads(signed.content)
    params = content["params"]
    legacy = params.get("format", 1) < 2
    items = queries.round_items(session=session, round_=round_)
    report.titles = {k: v[0] for k, v in items.items()}
    names = queries.user_names(session=session, ids={row[1] for row in content["ratings"]})
    stored = _stored_rows(session, round_, content["ratings"], signed.signed_at, legacy)
    _compare_ratings(content["ratings"], stored, report, names)
    live = round_.state == RoundState.signed and signed.reopened_at is None
    if live and not legacy:
        _still_current(session, round_, content["ratings"], report)
    ratings = RatingInput([r[0] for r in stored], [r[1] for r in stored], [r[2] for r in stored],
                          [r[3] for r in stored], [r[4] for r in stored],
                          {} if legacy else {r[0]: r[6] for r in stored if r[6] is not None})
    if legacy:
        from .services import policy_for  # format 1 did not record the policy: today's config
        confidence = dict(session.exec(select(Assignment.id, Assignment.confidence).where(
            Assignment.id.in_(sorted(set(ratings.assignment_id))), Assignment.confidence.is_not(None))).all()) \
            if ratings.assignment_id else {}
        ratings = RatingInput(ratings.assignment_id, ratings.expert_id, ratings.item_id, ratings.criterion,
                              ratings.value, confidence)
        policy = policy_for(round_, received=len(items))
        ineligible = {k: v for k, v in queries.annual_eligibility(session=session, round_=round_).items() if v} \
            if round_.kind == RoundKind.annual else {}
        report.notes.append(("该版本签署于快照第 1 版格式：未记录评分版本、置信度与推荐规则，按签署前最后保存的评分版本、"
                             "当前置信度和当前配置重算",
                             "signed in snapshot format 1, which did not record rating versions, confidence or the "
                             "proposal policy: recomputed from the last version saved before the signature, today's "
                             "confidence and today's config"))
    else:
        policy = snapshot.policy_of(params["policy"])
        ineligible = {int(k): v for k, v in params.get("ineligible", {}).items()}
    scales = [CriterionScale(c["key"], c["min"], c["max"], c["step"], c["weight"]) for c in params["criteria"]]
    try:
        ranking = compute_ranking(ratings, items, method=content["method"], scales=scales, slots=params["slots"],
                                  threshold=params["threshold"], band=params["band"], seed=params["seed"])
    except ValueError as exc:  # e.g. a row with a criterion the signed scale does not know
        report.findings.append(Finding(None, f"无法用数据库中的评分重算：{exc}",
                                       f"the stored ratings cannot be recomputed: {exc}", "round"))
        return report
    proposal = propose(snapshot.candidates(ranking.rows, ineligible), policy)
    round_info = {"key": round_.key, "kind": round_.kind.value, "stage": round_.stage.value, "unit": round_.unit,
                  "criteria_set": round_.criteria_set}
    if round_info != content["round"]:
        report.findings.append(Finding(None, f"轮次信息已改动：签署时 {content['round']}，现为 {round_info}",
                                       f"the round changed: signed {content['round']}, now {round_info}", "round"))
    recomputed = snapshot.build_content(round_info=round_info, method=content["method"], params=params,
                                        ratings=stored, rows=ranking.rows, proposal=proposal,
                                        overrides=content["overrides"])
    report.recomputed_sha256 = snapshot.content_sha256(recomputed)
    report.bit_for_bit = report.recomputed_sha256 == signed.content_sha256 and report.stored_text_intact
    exact = _compare_entries(content["entries"], recomputed["entries"], report)
    now, then = snapshot.software(), params.get("software", {})
    changed = ", ".join(f"{k} {then.get(k)} -> {now[k]}" for k in now if then and then.get(k) != now[k])
    if not report.bit_for_bit and not report.findings:
        report.notes.append((f"SHA-256 未逐位复现；排名、名次区间与入选决定完全一致，得分与标准误差在 {SCORE_TOLERANCE:g} 内、"
                             f"入选概率差在 {P_TOLERANCE:g} 内（软件差异：{changed or '无记录'}）" if not exact else
                             "SHA-256 未逐位复现，但每个作品的结果完全一致（条目顺序不同）",
                             f"not bit for bit: every rank, band and decision is equal, scores and SEs within "
                             f"{SCORE_TOLERANCE:g}, P(shortlist) within {P_TOLERANCE:g} (software changed: "
                             f"{changed or 'none recorded'})"
                             if not exact else "not bit for bit, but every work's result is equal (entry order differs)"))
    elif report.findings and changed and not any(f.kind == "rating" for f in report.findings):
        report.notes.append((f"签署后软件已变化（{changed}）：评分行未变而结果不同，可能是计算代码改变所致",
                             f"the software changed since signing ({changed}): the rating rows are unchanged, so the "
                             "difference may come from the code, not the data"))
    return report


def lines(report: Verification, lang: str = "zh") -> list[str]:
    """The report for the command line: integrity, then the rating rows that differ, then the results."""
    zh = lang == "zh"
    out = []
    if not report.stored_text_intact:
        out.append("存储的快照文本与其 SHA-256 不符（快照被改动）" if zh else
                   "the stored snapshot text does not match its stored SHA-256 (the snapshot was altered)")
    if not report.audit_matches:
        out.append("审计日志中该版本的签署事件记录的 SHA-256 与存储的不同或缺失" if zh else
                   "the audit log's signature event of this version records another SHA-256, or is missing")
    out += [f.zh if zh else f.en for f in report.findings if f.kind == "round"]
    for kind, header_zh, header_en in (("rating", "与签署时不同的评分行", "rating rows that differ from the signed ones"),
                                       ("result", "重算结果与签署名单不同的作品", "works whose recomputed result differs from the signed list")):
        found = [f for f in report.findings if f.kind == kind]
        if not found:
            continue
        out.append(f"{header_zh}：{len(found)}" if zh else f"{header_en}: {len(found)}")
        for f in sorted(found, key=lambda f: (f.item_id is None, f.item_id or 0)):
            title = report.titles.get(f.item_id, "")
            if f.item_id is None:
                out.append(f"  {f.zh if zh else f.en}")
            else:
                out.append(f"  作品 {f.item_id}《{title}》：{f.zh}" if zh else f"  work {f.item_id} ({title}): {f.en}")
    out += [zh_note if zh else en_note for zh_note, en_note in report.notes]
    return out
