"""重复参评 and 多头申报: the same work entered twice, or by several submitters (section 五).

Two entries are the same work when their normalized titles are equal and their licence
numbers agree (equal, or one missing), or when they carry the same licence number. They are
probably the same work when their titles are nearly equal (similarity at least
``intake.near_duplicate_threshold``) — unless both carry different licence numbers, which
proves two works that happen to share a title.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from rapidfuzz import fuzz, process

from .eligibility import Issue

_CHUNK = 512  # rows of the similarity matrix computed at once (memory stays ~20 MB)


@dataclass(frozen=True)
class Candidate:
    """One entry as the duplicate check sees it."""

    ref: int  # row number for a file row, work id for a stored work
    title: str
    normalized: str
    license: str  # normalized licence number, "" if none
    submitter: str
    round_key: str | None = None  # None: a row of the file being imported

    def describe_zh(self) -> str:
        if self.round_key is None:
            return f"第 {self.ref} 行《{self.title}》"
        return f"{self.round_key} 轮次已有的《{self.title}》（编号 {self.ref}）"

    def describe_en(self) -> str:
        if self.round_key is None:
            return f"row {self.ref} '{self.title}'"
        return f"'{self.title}' already in round {self.round_key} (id {self.ref})"


@dataclass(frozen=True)
class Match:
    """``new`` duplicates ``other`` (exactly, or with title similarity ``similarity``)."""

    new: Candidate
    other: Candidate
    exact: bool
    similarity: float
    by_license: bool = False

    @property
    def several_submitters(self) -> bool:
        return self.new.submitter.strip() != self.other.submitter.strip()

    def issue(self, *, case: bool = False) -> Issue:
        """The row's issue, naming the matching pair (``case``: a dissemination case, not a work)."""
        noun_zh, noun_en = ("案例", "case") if case else ("作品", "work")
        if self.several_submitters:
            who = "推荐单位" if case else "申报主体"
            kind_zh = f"多头申报（{who}“{self.new.submitter}”与“{self.other.submitter}”）"
            kind_en = f"several submitters ({self.new.submitter!r} and {self.other.submitter!r})"
            code = "multiple_submitters"
        else:
            kind_zh, kind_en, code = "重复参评", "entered twice", "duplicate"
        column = "license_no" if self.by_license else ("name" if case else "title")
        if self.exact:
            how_zh = "发行许可证号或上线备案号相同" if self.by_license else f"{noun_zh}名称相同"
            how_en = "same licence number" if self.by_license else "same title"
            return Issue(self.new.ref, column,
                         f"与{self.other.describe_zh()}为同一{noun_zh}（{how_zh}）：{kind_zh}",
                         f"same {noun_en} as {self.other.describe_en()} ({how_en}): {kind_en}", code)
        hint_zh = "" if case else "；如确为不同作品，请填报各自的发行许可证号或上线备案号"
        hint_en = "" if case else "; if they are different works, give each its licence/filing number"
        return Issue(self.new.ref, column,
                     f"{noun_zh}名称与{self.other.describe_zh()}高度相似（相似度 {self.similarity:.2f}），"
                     f"疑似同一{noun_zh}{kind_zh}{hint_zh}",
                     f"title is nearly the same as {self.other.describe_en()} (similarity "
                     f"{self.similarity:.2f}): probably the same {noun_en}, {kind_en}{hint_en}",
                     "near_" + code)


def _licences_conflict(a: Candidate, b: Candidate) -> bool:
    return bool(a.license and b.license and a.license != b.license)


def find_duplicates(new: Sequence[Candidate], existing: Sequence[Candidate], *,
                    threshold: float) -> list[Match]:
    """For each new entry, its first duplicate among ``existing`` and the earlier new entries."""
    by_title: dict[str, list[Candidate]] = {}
    by_license: dict[str, Candidate] = {}
    for candidate in existing:
        if candidate.normalized:
            by_title.setdefault(candidate.normalized, []).append(candidate)
        if candidate.license:
            by_license.setdefault(candidate.license, candidate)
    pool = [c for c in existing if c.normalized]
    matches: dict[int, Match] = {}
    exact_found: set[int] = set()
    for index, candidate in enumerate(new):
        match = None
        for other in by_title.get(candidate.normalized, []) if candidate.normalized else []:
            if not _licences_conflict(candidate, other):
                match = Match(candidate, other, exact=True, similarity=1.0)
                break
        if match is None and candidate.license in by_license:
            match = Match(candidate, by_license[candidate.license], exact=True, similarity=1.0,
                          by_license=True)
        if match is not None:
            matches[index] = match
            exact_found.add(index)
        if candidate.normalized:
            by_title.setdefault(candidate.normalized, []).append(candidate)
        if candidate.license:
            by_license.setdefault(candidate.license, candidate)

    # Near-duplicates: similarity of every new title with every stored and earlier new title.
    new_indexed = [(i, c) for i, c in enumerate(new) if c.normalized and i not in exact_found]
    choices = pool + [c for c in new if c.normalized]
    new_position = {id(c): len(pool) + k for k, c in enumerate(c for c in new if c.normalized)}
    if new_indexed and choices:
        choice_strings = [c.normalized for c in choices]
        cutoff = threshold * 100
        for start in range(0, len(new_indexed), _CHUNK):
            chunk = new_indexed[start:start + _CHUNK]
            scores = process.cdist([c.normalized for _, c in chunk], choice_strings,
                                   scorer=fuzz.ratio, score_cutoff=cutoff, dtype=np.float32,
                                   workers=-1)
            for local, (index, candidate) in enumerate(chunk):
                own = new_position[id(candidate)]
                columns = np.nonzero(scores[local])[0]
                best = None
                for column in columns:
                    # Earlier rows only (a pair is reported once, on its later row).
                    if column >= own:
                        continue
                    other = choices[column]
                    if other.normalized == candidate.normalized or _licences_conflict(candidate, other):
                        continue
                    score = float(scores[local, column]) / 100
                    if best is None or score > best.similarity:
                        best = Match(candidate, other, exact=False, similarity=score)
                if best is not None:
                    matches[index] = best
    return [matches[i] for i in sorted(matches)]
