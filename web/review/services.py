"""What the chair's pages and the API share: the cached ranking, the proposal, the view of the
shortlist, and sealing it. Calls queries and operations; holds no SQL of its own."""
from __future__ import annotations

import datetime as dt
import json
import weakref
from dataclasses import dataclass

from sqlmodel import Session

from scoring.normalize import DEFAULT_METHOD, METHODS
from scoring.rules.config import Rules, load_rules
from scoring.rules.shortlist import Policy, Proposal
from scoring.totals import CriterionScale

from ..core.memo import kept
from ..core.models import Round, RoundKind, RoundState, Stage, User, utcnow
from ..rating.flags import refresh_flags, unexplained
from ..signing import operations as signing
from ..signing import snapshot
from ..signing.queries import result_versions, round_is_locked
from ..core.errors import Refused
from ..core.recompute_queue import enqueue_recompute, pending_job
from . import derived, operations, queries
from .rankings import RankedItem, RoundRanking, compute_ranking


def parse_method(value: object) -> str:
    """The method named in a request (the default when empty); Refused (422) when unknown or not a string."""
    method = (value.strip() if isinstance(value, str) else value) or DEFAULT_METHOD
    if not isinstance(method, str) or method not in METHODS:
        raise Refused(422, "unknown_method", f"未知方法“{method}”（可选：{'、'.join(METHODS)}）",
                                     f"unknown method {method!r} (choose one of {', '.join(METHODS)})")
    return method


def policy_for(round_: Round, *, received: int, rules: Rules | None = None) -> Policy:
    """The proposal policy of a round from config: slots and floor, or the cases' bar; the provincial cap."""
    rules = rules or load_rules()
    if round_.kind == RoundKind.dissemination:
        return Policy(slots=None, bar=rules.criteria_sets[round_.criteria_set].bar)
    shortlist = rules.shortlists["annual" if round_.kind == RoundKind.annual else "quarter"]
    cap = rules.stages["provincial"].recommend_cap if round_.stage == Stage.provincial else None
    return Policy(slots=dict(shortlist.slots), min_score=shortlist.min_score, cap_share=cap, received=received)


def compute_ranking_of(*, session: Session, round_: Round, method: str, rules: Rules | None = None) -> RoundRanking:
    """The round's ranking by ``method`` computed now from its ratings (no cache read or write),
    with what the chair's pages derive from it (``derived``: the proposal, reliability, outliers),
    so that they are derived once per stored result, never in a request that serves it."""
    rules = rules or load_rules()
    items = queries.round_items(session=session, round_=round_)
    policy = policy_for(round_, received=len(items), rules=rules)
    scales = [CriterionScale(c.key, c.min, c.max, c.step, c.weight)
              for c in rules.criteria_sets[round_.criteria_set].criteria]
    thresholds = [t for t in (policy.min_score, policy.bar) if t is not None]
    ratings = queries.rating_input(session=session, round_=round_)
    ranking = compute_ranking(ratings, items, method=method, scales=scales, slots=policy.slots,
                              threshold=max(thresholds) if thresholds else None)
    ranking.derived = derived.derive(ranking, policy=policy, ineligible=_ineligible(session, round_))
    return ranking


def refresh_ranking(*, session: Session, round_: Round, method: str, rules: Rules | None = None) -> RoundRanking:
    """Compute and store the ranking by ``method`` unless the stored one is of the current ratings.

    The fingerprint is read before the ratings: a change that lands in between leaves the stored
    result marked as older than the ratings, so it is computed again, never taken for current."""
    fingerprint = queries.ratings_fingerprint(session=session, round_=round_)
    cached = queries.cached_ranking(session=session, round_=round_, method=method, fingerprint=fingerprint)
    if cached is not None:
        return cached
    ranking = compute_ranking_of(session=session, round_=round_, method=method, rules=rules)
    operations.store_ranking(session=session, round_=round_, method=method, fingerprint=fingerprint,
                             ranking=ranking)
    return ranking


def ranking_for(*, session: Session, round_: Round, method: str, rules: Rules | None = None) -> RoundRanking:
    """The round's ranking by ``method`` of the ratings as they are now: from the store while no
    rating changed, else computed (and stored) in this call. For what must never be stale (the
    sign-off, storing a proposal); pages read :func:`latest_ranking`."""
    return refresh_ranking(session=session, round_=round_, method=method, rules=rules)


@dataclass(frozen=True)
class LatestRanking:
    """What a chair page shows: the latest computed ranking, when it was computed, and whether
    the ratings have changed since (a newer one is being computed: "正在更新")."""

    ranking: RoundRanking
    computed_at: dt.datetime
    updating: bool


def latest_ranking(*, session: Session, round_: Round, method: str) -> LatestRanking:
    """The latest computed ranking by ``method``, never computed here once one exists.

    When the ratings changed since it was computed, a background recompute is queued (if none
    is) and the result is served marked ``updating``. Only the first request of a round and
    method with no stored result computes, in the request (the caller commits)."""
    fingerprint = queries.ratings_fingerprint(session=session, round_=round_)
    stored = queries.stored_ranking(session=session, round_=round_, method=method)
    if stored is None:
        ranking, now = compute_ranking_of(session=session, round_=round_, method=method), utcnow()
        operations.store_ranking(session=session, round_=round_, method=method, fingerprint=fingerprint,
                                 ranking=ranking, computed_at=now)
        return LatestRanking(ranking, now, False)
    ranking, computed_at, of = stored
    updating = of != fingerprint
    if updating and not round_is_locked(round_) and pending_job(session=session, round_id=round_.id) is None:
        # a change no write queued a recompute for (the writes that change a ranking queue one
        # themselves): queue it; the usual case writes nothing here
        enqueue_recompute(session=session, round_id=round_.id, changes=0)
    return LatestRanking(ranking, computed_at, updating)


def proposal_for(*, session: Session, round_: Round, ranking: RoundRanking) -> Proposal:
    """The proposal of the rules over this ranking (annual rounds: only works from signed quarters)."""
    policy, ineligible = _proposal_inputs(session, round_)
    return derived.propose_now(ranking, policy=policy, ineligible=ineligible)


def decisions_for(*, session: Session, round_: Round, ranking: RoundRanking) -> list[derived.Decision]:
    """The proposal's decisions over this ranking: as derived when it was computed, unless the
    round's policy or eligibility changed since (then proposed now)."""
    policy, ineligible = _proposal_inputs(session, round_)
    return derived.decisions_for(ranking, policy=policy, ineligible=ineligible)


def _proposal_inputs(session: Session, round_: Round) -> tuple[Policy, dict[int, str]]:
    """What a proposal depends on besides the ranking: the round's policy and, in an annual round,
    the items that may not be proposed."""
    return policy_for(round_, received=queries.item_count(session=session, round_=round_)), \
        _ineligible(session, round_)


def _ineligible(session: Session, round_: Round) -> dict[int, str]:
    """Annual rounds: item → why it may not be proposed (only the items that may not)."""
    if round_.kind != RoundKind.annual:
        return {}
    return {k: v for k, v in queries.annual_eligibility(session=session, round_=round_).items() if v}


def sensitivity(*, session: Session, round_: Round) -> tuple[list[str], list[dict]]:
    """The items whose proposed status differs between methods: (methods, rows with a status per method)."""
    methods = list(METHODS)
    status: dict[int, dict[str, bool]] = {}
    titles: dict[int, tuple[str, str]] = {}
    for method in methods:
        ranking = ranking_for(session=session, round_=round_, method=method)
        for decision in decisions_for(session=session, round_=round_, ranking=ranking):
            row = ranking.row(decision.item_id)
            status.setdefault(decision.item_id, {})[method] = decision.proposed
            titles[decision.item_id] = (row.title, row.category)
    rows = [{"item_id": key, "title": titles[key][0], "category": titles[key][1], "proposed": by_method}
            for key, by_method in status.items() if len(set(by_method.values())) > 1]
    rows.sort(key=lambda r: (r["category"], r["title"]))
    return methods, rows


@dataclass(frozen=True)
class ShortlistView:
    """The shortlist as shown and exported: stored entries, or the unsaved proposal."""

    round: Round
    method: str
    state: str  # "unsaved", "proposed" or "signed"
    entries: list[dict]
    content_sha256: str | None
    version: int | None
    ranking: RoundRanking | None = None  # the ranking the entries' bands and probabilities come from
    latest: "LatestRanking | None" = None  # for a page: when it was computed, whether a newer one is due
    #: what the entries are made of (with ``ranking``): the same key, the same entries; None when not known
    entries_key: tuple | None = None


def _entry_dict(entry: queries.EntryRow, row: RankedItem | None, names: dict[int, str]) -> dict:
    return {"item_id": entry.case_id or entry.work_id, "entry_id": entry.id,
            "title": row.title if row else "", "category": entry.category, "rank": entry.rank,
            "rank_low": row.rank_low if row else entry.rank, "rank_high": row.rank_high if row else entry.rank,
            "score": entry.score, "se": entry.se, "p_shortlist": row.p_shortlist if row else None,
            "n_ratings": row.n_ratings if row else 0, "proposed": entry.proposed, "included": entry.included,
            "straddles_cut": entry.straddles_cut, "override_reason": entry.override_reason,
            "override_by": names.get(entry.override_by) if entry.override_by else None,
            "override_at": entry.override_at.isoformat() if entry.override_at else None}


def shortlist_view(*, session: Session, round_: Round, method: str | None = None,
                   latest: bool = False) -> ShortlistView:
    """The stored shortlist (its own method), or else the proposal by ``method`` not yet saved.

    ``latest``: from the latest computed ranking (a page; never computed in the request once one
    exists), else from the ratings as they are now (exports)."""

    def ranking_of(chosen: str) -> tuple[RoundRanking, LatestRanking | None]:
        if latest:
            served = latest_ranking(session=session, round_=round_, method=chosen)
            return served.ranking, served
        return ranking_for(session=session, round_=round_, method=chosen), None

    shortlist = queries.get_shortlist(session=session, round_=round_)
    if shortlist is not None:
        ranking, served = ranking_of(shortlist.method)
        entries, key = _stored_entries(session, round_, shortlist, ranking)
        versions = result_versions(session=session, round_=round_)
        return ShortlistView(round_, shortlist.method, shortlist.state, entries,
                             shortlist.content_sha256, versions[-1].version if versions and
                             shortlist.state == "signed" else None, ranking, served, key)
    method = method or DEFAULT_METHOD
    ranking, served = ranking_of(method)
    # the proposal is the rules' over the result, the policy and the eligibility: one list per each
    policy, ineligible = _proposal_inputs(session, round_)
    made_of = ("proposal", method, json.dumps(derived.proposal_inputs(policy, ineligible), sort_keys=True))
    entries = kept(ranking.memo, "shortlist entries", made_of, lambda: _proposal_entries(
        ranking, derived.decisions_for(ranking, policy=policy, ineligible=ineligible)))
    return ShortlistView(round_, method, "unsaved", entries, None, None, ranking, served, made_of)


def _proposal_entries(ranking: RoundRanking, decisions: list[derived.Decision]) -> list[dict]:
    row_of = ranking.row_by_id
    entries = []
    for decision in decisions:
        row = row_of[decision.item_id]
        entries.append({"item_id": row.item_id, "entry_id": None, "title": row.title,
                        "category": row.category, "rank": row.rank, "rank_low": row.rank_low,
                        "rank_high": row.rank_high, "score": row.score, "se": row.se,
                        "p_shortlist": row.p_shortlist, "n_ratings": row.n_ratings,
                        "proposed": decision.proposed, "included": decision.proposed,
                        "straddles_cut": decision.straddles_cut, "override_reason": None,
                        "override_by": None, "override_at": None, "reason": decision.reason})
    return entries


#: per database (its engine), the stored entries' rows of the latest shortlists read, each as of the
#: last audited write of its entries: a newer ranking result rebuilds the entries from them, not
#: from the database
_ENTRY_ROWS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_ENTRY_ROWS_KEPT = 16


def _entry_rows(session: Session, shortlist, made_of: tuple) -> list:
    """The shortlist's entry rows, read once per write of them (``made_of`` names the last one)."""
    return kept(_ENTRY_ROWS.setdefault(session.get_bind(), {}), shortlist.id, made_of,
                lambda: queries.shortlist_entry_rows(session=session, shortlist=shortlist), slots=_ENTRY_ROWS_KEPT)


def _stored_entries(session: Session, round_: Round, shortlist, ranking: RoundRanking) -> tuple[list[dict], tuple]:
    """The stored entries as dicts, built once per (result, shortlist, last audited write of its
    entries) and kept with the result (``RoundRanking.memo``, one at a time) from rows read once per
    write (``_entry_rows``: a newer result does not read them again); only the names of
    who moved an entry are read each time (a renamed user shows the new name). The dicts are
    shared: read them, never change them."""
    made_of = ("stored", shortlist.id, queries.entries_revision(session=session, round_=round_))

    def read() -> tuple[list[dict], dict[int, int]]:
        rows = _entry_rows(session, shortlist, made_of)
        return ([_entry_dict(e, ranking.row(e.case_id or e.work_id), {}) for e in rows],
                {i: e.override_by for i, e in enumerate(rows) if e.override_by})

    entries, moved_by = kept(ranking.memo, "shortlist entries", made_of, read)
    names = queries.user_names(session=session, ids=set(moved_by.values()))
    if moved_by:
        entries = list(entries)
        for index, user_id in moved_by.items():
            entries[index] = {**entries[index], "override_by": names.get(user_id)}
    return entries, (*made_of, tuple(sorted(names.items())))


def propose_and_save(*, session: Session, round_: Round, method: str, actor: User):
    """(Re-)propose the shortlist by ``method`` and store it (overrides kept)."""
    signing.ensure_writable(round_)
    ranking = ranking_for(session=session, round_=round_, method=method)
    if not ranking.rows:
        raise Refused(409, "no_ratings", "本轮尚无已提交的评分，无法生成建议名单",
                                     "no submitted ratings yet: nothing to propose")
    proposal = proposal_for(session=session, round_=round_, ranking=ranking)
    return operations.save_proposal(session=session, round_=round_, ranking=ranking, proposal=proposal, actor=actor)


def sign_off_shortlist(*, session: Session, round_: Round, signer: User, password: str, dissent: str | None):
    """The chair's sign-off: check the password, freeze ratings, method, shortlist and overrides."""
    signing.ensure_writable(round_)
    signing.check_signer(signer, password)
    if round_.state == RoundState.review:
        refresh_flags(session=session, round_=round_, actor=signer.username)
        waiting = unexplained(session=session, round_=round_)
        if waiting:
            raise Refused(
                409, "unexplained_abnormal",
                f"仍有 {len(waiting)} 个畸高/畸低评分既无评审专家的书面说明、也无组长的书面豁免（任务编号："
                f"{'、'.join(map(str, waiting))}），暂不能签署",
                f"{len(waiting)} abnormal rating(s) have neither the expert's written explanation nor the "
                f"chair's written waiver (assignments {', '.join(map(str, waiting))}): not signed",
                unexplained=waiting)
    shortlist = queries.get_shortlist(session=session, round_=round_)
    if shortlist is None:
        shortlist = propose_and_save(session=session, round_=round_, method=DEFAULT_METHOD, actor=signer)
    ranking = ranking_for(session=session, round_=round_, method=shortlist.method)
    proposal = proposal_for(session=session, round_=round_, ranking=ranking)
    stored = queries.shortlist_entries(session=session, shortlist=shortlist)
    if {(e.case_id or e.work_id, e.rank, e.proposed, e.straddles_cut) for e in stored} != \
            {(d.candidate.key, d.candidate.rank, d.proposed, d.straddles_cut) for d in proposal.entries}:
        # ratings changed after the proposal was stored: re-propose (overrides kept), so what is
        # signed is what the ratings give and what `tuiyou result verify` re-derives
        operations.save_proposal(session=session, round_=round_, ranking=ranking, proposal=proposal, actor=signer)
        stored = queries.shortlist_entries(session=session, shortlist=shortlist)
    names = queries.user_names(session=session, ids={e.override_by for e in stored if e.override_by})
    overrides = [{"item_id": e.case_id or e.work_id, "included": e.included, "override_reason": e.override_reason,
                  "override_by": names.get(e.override_by) if e.override_by else None,
                  "override_at": e.override_at.isoformat() if e.override_at else None}
                 for e in stored if e.override_reason]
    inputs = queries.signing_inputs(session=session, round_=round_)
    items = queries.round_items(session=session, round_=round_)
    params = {**ranking.params, "format": snapshot.SNAPSHOT_FORMAT,
              "policy": snapshot.policy_record(policy_for(round_, received=len(items))),
              "ineligible": {str(k): v for k, v in sorted(_ineligible(session, round_).items())},
              "software": snapshot.software()}
    content = snapshot.build_content(
        round_info={"key": round_.key, "kind": round_.kind.value, "stage": round_.stage.value, "unit": round_.unit,
                    "criteria_set": round_.criteria_set},
        method=shortlist.method, params=params, ratings=inputs, rows=ranking.rows, proposal=proposal,
        overrides=overrides)
    return signing.sign_off(session=session, round_=round_, shortlist=shortlist, content=content,
                             signer=signer, dissent=dissent)
