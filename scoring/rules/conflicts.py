"""Conflicts of interest (回避): which expert must never rate which work, and why.

A conflict is a hard constraint of every assignment, automatic or manual. Each one carries a
reason code with a Chinese and an English label for the report:

- ``same_organisation_submitter`` / ``same_organisation_copyright``: the expert's organisation
  is the work's submitter (申报主体) or copyright holder (版权方);
- ``same_province``: the expert's province is the recommending unit's province (地域回避,
  per stage in ``config/stages.toml``);
- ``declared_organisation``, ``declared_person``, ``declared_work``: declared by the expert;
- ``recused``: the expert recused at scoring time.

Names are compared after NFKC folding (full- and half-width forms alike), trimming and
case folding; an empty name never matches.
"""
from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .config import AssignmentPolicy

__all__ = ["Expert", "Work", "Recusal", "ConflictRules", "Conflict", "ConflictTable", "CONFLICT_REASONS",
           "conflict_reasons", "find_conflicts", "fold_name"]

#: reason code -> (Chinese label, English label); the bit of each code is its position here.
CONFLICT_REASONS: dict[str, tuple[str, str]] = {
    "same_organisation_submitter": ("专家所在单位为申报主体", "the expert's organisation submitted the work"),
    "same_organisation_copyright": ("专家所在单位为版权方", "the expert's organisation holds the copyright"),
    "same_province": ("专家与推荐单位同省（地域回避）", "the expert is from the recommending unit's province"),
    "declared_organisation": ("专家申报回避的单位", "an organisation the expert declared"),
    "declared_person": ("专家申报回避的人员", "a person the expert declared"),
    "declared_work": ("专家申报回避的作品", "a work the expert declared"),
    "recused": ("专家评审时申请回避", "the expert recused while scoring"),
}
_BIT = {code: 1 << i for i, code in enumerate(CONFLICT_REASONS)}


def fold_name(name: str) -> str:
    """The form in which organisation, province and person names are compared."""
    return unicodedata.normalize("NFKC", name or "").strip().casefold()


@dataclass(frozen=True)
class Expert:
    """An expert of the pool, as the assignment sees them."""

    id: Hashable
    categories: tuple[str, ...]
    organisation: str = ""
    province: str = ""
    capacity: int | None = None  # most works per round (每轮最多评审数); None: no limit
    declared_organisations: tuple[str, ...] = ()
    declared_people: tuple[str, ...] = ()
    declared_work_ids: tuple[Hashable, ...] = ()


@dataclass(frozen=True)
class Work:
    """A work to be rated, with the fields conflicts are checked against (never shown to experts)."""

    id: Hashable
    category: str
    submitter: str = ""
    copyright_holder: str = ""
    unit: str = ""  # recommending unit (推荐单位)
    unit_province: str = ""
    people: tuple[str, ...] = ()  # people credited on the work (director, producer, ...)


@dataclass(frozen=True)
class Recusal:
    """An expert's recusal from one work, declared at scoring time."""

    expert_id: Hashable
    work_id: Hashable
    reason: str = ""


@dataclass(frozen=True)
class ConflictRules:
    """Which automatic conflicts apply in a round (declared ones and recusals always do)."""

    same_organisation: bool = True
    same_province: bool = False

    @classmethod
    def for_stage(cls, policy: AssignmentPolicy, stage: str) -> "ConflictRules":
        """The rules of ``config/stages.toml`` [assignment] for a round of ``stage``."""
        return cls(same_organisation=policy.recuse_same_organisation,
                   same_province=policy.recuses_same_province(stage))


@dataclass(frozen=True)
class Conflict:
    """One (expert, work) pair that must never be assigned, with every reason that applies."""

    expert_id: Hashable
    work_id: Hashable
    codes: tuple[str, ...]

    @property
    def zh(self) -> str:
        return "；".join(CONFLICT_REASONS[c][0] for c in self.codes)

    @property
    def en(self) -> str:
        return "; ".join(CONFLICT_REASONS[c][1] for c in self.codes)


def conflict_reasons(expert: Expert, work: Work, *, rules: ConflictRules = ConflictRules(),
                     recusals: Iterable[Recusal] = ()) -> tuple[str, ...]:
    """Reason codes why ``expert`` must not rate ``work`` (empty: no conflict)."""
    codes = []
    org = fold_name(expert.organisation)
    if rules.same_organisation and org:
        if org == fold_name(work.submitter):
            codes.append("same_organisation_submitter")
        if org == fold_name(work.copyright_holder):
            codes.append("same_organisation_copyright")
    province = fold_name(expert.province)
    if rules.same_province and province and province == fold_name(work.unit_province):
        codes.append("same_province")
    work_orgs = {fold_name(n) for n in (work.submitter, work.copyright_holder, work.unit)} - {""}
    if work_orgs & ({fold_name(n) for n in expert.declared_organisations} - {""}):
        codes.append("declared_organisation")
    if ({fold_name(n) for n in work.people} - {""}) & ({fold_name(n) for n in expert.declared_people} - {""}):
        codes.append("declared_person")
    if work.id in set(expert.declared_work_ids):
        codes.append("declared_work")
    if any(r.expert_id == expert.id and r.work_id == work.id for r in recusals):
        codes.append("recused")
    return tuple(codes)


@dataclass(frozen=True)
class ConflictTable:
    """Every conflicted (expert, work) pair of an instance, as sorted integer keys.

    ``key = expert_index * n_works + work_index`` over the positions of the experts and
    works passed to :func:`find_conflicts`; ``mask`` holds the reason bits of each key.
    """

    n_works: int
    keys: np.ndarray  # int64, sorted, unique
    mask: np.ndarray  # int16 reason bits, aligned with keys

    def __len__(self) -> int:
        return len(self.keys)

    def contains(self, expert_index: np.ndarray, work_index: np.ndarray) -> np.ndarray:
        """Boolean array: is each (expert_index, work_index) pair conflicted."""
        query = np.asarray(expert_index, dtype=np.int64) * self.n_works + np.asarray(work_index, dtype=np.int64)
        if not len(self.keys):
            return np.zeros(query.shape, dtype=bool)
        pos = np.minimum(np.searchsorted(self.keys, query), len(self.keys) - 1)
        return self.keys[pos] == query

    def codes_of(self, expert_index: int, work_index: int) -> tuple[str, ...]:
        """Reason codes of one pair (empty: no conflict)."""
        key = expert_index * self.n_works + work_index
        pos = int(np.searchsorted(self.keys, key))
        if pos == len(self.keys) or self.keys[pos] != key:
            return ()
        return tuple(code for code, bit in _BIT.items() if self.mask[pos] & bit)

    def count_by_reason(self) -> dict[str, int]:
        """How many conflicted pairs each reason accounts for (a pair may have several)."""
        return {code: int(np.count_nonzero(self.mask & bit)) for code, bit in _BIT.items()}


def find_conflicts(experts: Sequence[Expert], works: Sequence[Work], *, rules: ConflictRules = ConflictRules(),
                   recusals: Iterable[Recusal] = ()) -> ConflictTable:
    """All conflicted pairs of an instance, found through name indexes (no expert × work loop)."""
    by_submitter, by_copyright, by_province = defaultdict(list), defaultdict(list), defaultdict(list)
    by_org, by_person = defaultdict(set), defaultdict(set)
    work_index = {}
    for w, work in enumerate(works):
        if work.id in work_index:
            raise ValueError(f"work {work.id!r} is listed twice")
        work_index[work.id] = w
        by_submitter[fold_name(work.submitter)].append(w)
        by_copyright[fold_name(work.copyright_holder)].append(w)
        by_province[fold_name(work.unit_province)].append(w)
        for name in (work.submitter, work.copyright_holder, work.unit):
            by_org[fold_name(name)].add(w)
        for person in work.people:
            by_person[fold_name(person)].add(w)
    for index in (by_submitter, by_copyright, by_province, by_org, by_person):
        index.pop("", None)
    expert_index = {expert.id: e for e, expert in enumerate(experts)}
    if len(expert_index) != len(experts):
        raise ValueError("an expert is listed twice")
    chunks_e, chunks_w, chunks_bit = [], [], []

    def add(e: int, ws: Iterable[int], code: str) -> None:
        ws = np.fromiter(ws, dtype=np.int64)
        if ws.size:
            chunks_e.append(np.full(ws.size, e, dtype=np.int64))
            chunks_w.append(ws)
            chunks_bit.append(np.full(ws.size, _BIT[code], dtype=np.int16))

    for e, expert in enumerate(experts):
        org = fold_name(expert.organisation)
        if rules.same_organisation and org:
            add(e, by_submitter.get(org, ()), "same_organisation_submitter")
            add(e, by_copyright.get(org, ()), "same_organisation_copyright")
        province = fold_name(expert.province)
        if rules.same_province and province:
            add(e, by_province.get(province, ()), "same_province")
        declared = set()
        for name in expert.declared_organisations:
            declared |= by_org.get(fold_name(name), set())
        add(e, declared, "declared_organisation")
        people = set()
        for name in expert.declared_people:
            people |= by_person.get(fold_name(name), set())
        add(e, people, "declared_person")
        add(e, (work_index[i] for i in expert.declared_work_ids if i in work_index), "declared_work")
    for recusal in recusals:
        e, w = expert_index.get(recusal.expert_id), work_index.get(recusal.work_id)
        if e is None or w is None:
            raise ValueError(f"recusal names unknown expert {recusal.expert_id!r} or work {recusal.work_id!r}")
        add(e, (w,), "recused")
    if not chunks_e:
        return ConflictTable(len(works), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int16))
    keys = np.concatenate(chunks_e) * len(works) + np.concatenate(chunks_w)
    bits = np.concatenate(chunks_bit)
    unique, inverse = np.unique(keys, return_inverse=True)
    mask = np.zeros(len(unique), dtype=np.int16)
    np.bitwise_or.at(mask, inverse, bits)
    return ConflictTable(len(works), unique, mask)
