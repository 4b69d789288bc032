"""The frozen content of a signed result, its SHA-256 over a canonical serialization, and the
one function that builds it (the sign-off and ``tuiyou result verify`` both call it).

Canonical JSON: keys sorted, no whitespace, UTF-8 (``ensure_ascii=False``), no NaN, lists in a
fixed order (ratings by assignment and criterion, entries as the proposal lists them: by
category, then rank). The hash covers what the panel signs — the round, the method and its
parameters, the input ratings, the shortlist and the overrides — and not when or by whom it
was signed (those are stored beside it), so signing the same content twice gives the same hash.

Format 2 (``params["format"]``) records everything a re-derivation needs: each rating row's
version (which saved values were current at signing) and the assignment's confidence, the
proposal policy (slots, floor, bar, cap, entries received) and the annual eligibility as they
were at signing, and the software that computed it. Format 1 snapshots (signed before) lack
these; ``web.review.verify`` says what it assumed for them.
"""
from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path

from scoring.rules.shortlist import Candidate, Policy, Proposal

#: The top-level fields of a snapshot; every one of them is covered by the hash.
FROZEN_FIELDS = ("round", "method", "params", "ratings", "entries", "overrides")
SNAPSHOT_FORMAT = 2
ENTRY_FIELDS = ("item_id", "title", "category", "rank", "rank_low", "rank_high", "score", "se", "p_shortlist",
                "n_ratings", "proposed", "included", "straddles_cut")
OVERRIDE_FIELDS = ("item_id", "included", "override_reason", "override_by", "override_at")


def canonical_json(content: dict) -> str:
    """The one serialization the hash is computed over."""
    missing = [name for name in FROZEN_FIELDS if name not in content]
    if missing:
        raise ValueError(f"snapshot lacks {', '.join(missing)}")
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def content_sha256(content: dict) -> str:
    """SHA-256 (hex) of the canonical JSON of ``content``."""
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def verify(text: str, expected: str) -> bool:
    """Whether stored canonical ``text`` still hashes to ``expected``."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest() == expected


def software() -> dict[str, str]:
    """The versions that computed a result (bits can differ across them; see docs/review.md)."""
    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "unknown"
    return {"tuiyou": version("tuiyou"), "numpy": version("numpy"), "scipy": version("scipy"),
            "python": platform.python_version(), "machine": platform.machine(), "code": code_fingerprint()}


def code_fingerprint() -> str:
    """SHA-256 (first 16 hex digits) of the code a result depends on: ``scoring/`` and the ranking.

    The package version does not move with every change of the numeric core; this does, so a
    verification that fails after an upgrade can say that the code changed since signing.
    """
    root = Path(__file__).resolve().parents[2]
    files = sorted((root / "scoring").rglob("*.py")) + [root / "web" / "review" / "rankings.py",
                                                        root / "web" / "signing" / "snapshot.py"]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def policy_record(policy: Policy) -> dict:
    """The proposal policy as the snapshot records it."""
    return {"slots": policy.slots, "min_score": policy.min_score, "bar": policy.bar, "cap_share": policy.cap_share,
            "received": policy.received}


def policy_of(record: dict) -> Policy:
    """The inverse of :func:`policy_record`."""
    return Policy(slots=record["slots"], min_score=record["min_score"], bar=record["bar"],
                  cap_share=record["cap_share"], received=record["received"])


def candidates(rows: list, ineligible: dict[int, str]) -> list[Candidate]:
    """The proposal's candidates from a ranking's rows (``web.review.rankings.RankedItem``;
    ``ineligible``: item → why it may not be proposed)."""
    nan = float("nan")
    return [Candidate(key=row.item_id, category=row.category, score=row.score,
                      se=row.se if row.se is not None else nan, rank=row.rank,
                      rank_low=row.rank_low, rank_high=row.rank_high,
                      p_top=row.p_shortlist if row.p_shortlist is not None else nan,
                      eligible=not ineligible.get(row.item_id), ineligible_reason=ineligible.get(row.item_id, ""))
            for row in rows]


def build_content(*, round_info: dict, method: str, params: dict, ratings: list[list], rows: list,
                  proposal: Proposal, overrides: list[dict]) -> dict:
    """The snapshot: ``ratings`` rows as recorded, one entry per proposed candidate, the overrides applied.

    ``rows`` are the ranking's rows (``RoundRanking.rows``); ``overrides`` the chair's moves,
    each with ``OVERRIDE_FIELDS``. A format 1 ``params`` gives format 1 entries (a missing SE
    written as 0.0, as they were signed then).
    """
    legacy = params.get("format", 1) < 2
    by_item = {row.item_id: row for row in rows}
    moved = {o["item_id"]: o for o in overrides}
    entries = []
    for decision in proposal.entries:
        row = by_item[decision.candidate.key]
        entry = {k: getattr(row, k) for k in ("item_id", "title", "category", "rank", "rank_low", "rank_high", "score",
                                              "se", "p_shortlist", "n_ratings")}
        if legacy and entry["se"] is None:
            entry["se"] = 0.0
        entry.update(proposed=decision.proposed, straddles_cut=decision.straddles_cut,
                     included=moved[row.item_id]["included"] if row.item_id in moved else decision.proposed)
        entries.append(entry)
    return {"round": round_info, "method": method, "params": params, "ratings": sorted(ratings),
            "entries": entries, "overrides": [{k: o[k] for k in OVERRIDE_FIELDS} for o in overrides
                                              if o["item_id"] in by_item]}
