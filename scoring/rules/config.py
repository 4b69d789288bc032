"""Rules as data: load and validate ``config/*.toml`` into frozen dataclasses.

Every value the notice fixes (categories, calendar, criteria, stages, quotas) lives in
``config/``. A wrong value stops loading with a :class:`ConfigError` that names the file,
the key and the problem, so next year's notice is a change of data, not of code.
"""
from __future__ import annotations

import datetime as dt
import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .toml_reader import ConfigError, TableReader, config_directory, read_toml

__all__ = ["ConfigError", "Rules", "load_rules", "DEFAULT_CONFIG_DIR"]

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


@dataclass(frozen=True)
class Category:
    key: str
    name: str
    name_en: str
    license_required: bool
    license_pattern: str | None = None


@dataclass(frozen=True)
class Quarter:
    key: str
    broadcast_start: dt.date
    broadcast_end: dt.date
    submission_deadline: dt.date
    forwarding_deadline: dt.date

    def contains(self, day: dt.date) -> bool:
        """Whether ``day`` lies inside this quarter's first-broadcast window."""
        return self.broadcast_start <= day <= self.broadcast_end


@dataclass(frozen=True)
class Calendar:
    year: int
    quarters: tuple[Quarter, ...]
    annual_from_quarters: tuple[str, ...]
    dissemination_with: str
    dissemination_period_start: dt.date
    dissemination_period_end: dt.date

    def quarter(self, key: str) -> Quarter:
        """The quarter called ``key`` (``"Q1"`` … ``"Q4"``)."""
        for quarter in self.quarters:
            if quarter.key == key:
                return quarter
        raise KeyError(f"{self.year} has no quarter {key!r}")


@dataclass(frozen=True)
class Criterion:
    key: str
    label: str
    label_en: str
    rubric: str
    rubric_en: str
    min: float
    max: float
    step: float
    weight: float


@dataclass(frozen=True)
class Highlight:
    key: str
    label: str
    label_en: str
    detail: tuple[str, ...] = ()


@dataclass(frozen=True)
class CriteriaSet:
    key: str
    label: str
    label_en: str
    criteria: tuple[Criterion, ...]
    highlights: tuple[Highlight, ...] = ()
    bar: float | None = None

    def criterion(self, key: str) -> Criterion:
        """The criterion called ``key``."""
        for criterion in self.criteria:
            if criterion.key == key:
                return criterion
        raise KeyError(f"criteria set {self.key!r} has no criterion {key!r}")


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    label_en: str
    recommend_cap: float | None = None
    cap_overridable: bool = False


@dataclass(frozen=True)
class ShortlistPolicy:
    kind: str
    slots: dict[str, int]
    min_score: float | None


@dataclass(frozen=True)
class AssignmentPolicy:
    per_work: int
    recuse_same_organisation: bool
    # stage key ("provincial", "national") -> whether experts recuse from works recommended
    # by a unit of their own province (地域回避)
    recuse_same_province: dict[str, bool]
    # a category with at most this many works (a case round: cases) gets a panel design; 0: never
    small_category_max: int = 0

    def recuses_same_province(self, stage: str) -> bool:
        """Whether a round of ``stage`` applies the same-province conflict."""
        if stage not in self.recuse_same_province:
            raise KeyError(f"unknown stage {stage!r} (known: {', '.join(self.recuse_same_province)})")
        return self.recuse_same_province[stage]


@dataclass(frozen=True)
class IntakePolicy:
    near_duplicate_threshold: float


@dataclass(frozen=True)
class Rules:
    """Everything the notice fixes, as validated data."""

    categories: tuple[Category, ...]
    calendars: dict[int, Calendar]
    criteria_sets: dict[str, CriteriaSet]
    stages: dict[str, Stage]
    shortlists: dict[str, ShortlistPolicy]
    assignment: AssignmentPolicy
    intake: IntakePolicy
    # Default regular expression a licence/filing number must fully match (None: any text);
    # a category's own ``license_pattern`` replaces it.
    license_pattern: str | None = None

    def category(self, name: str) -> Category:
        """The category whose Chinese name, English name or key is ``name``."""
        wanted = name.strip()
        for category in self.categories:
            if wanted in (category.name, category.key) or wanted.lower() == category.name_en.lower():
                return category
        raise KeyError(name)

    @property
    def category_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.categories)

    def calendar(self, year: int) -> Calendar:
        """The calendar of ``year``; ``KeyError`` when config has none."""
        return self.calendars[year]


# -- the sections ----------------------------------------------------------------------


def _categories(doc: TableReader) -> tuple[Category, ...]:
    categories, seen = [], set()
    for item in doc.tables("category"):
        item.only("key", "name", "name_en", "license_required", "license_pattern")
        key = item.get("key", str)
        name = item.get("name", str).strip()
        if name in seen or key in seen:
            raise item.fail("name", f"category {name!r} is declared twice")
        seen.update({key, name})
        categories.append(Category(
            key=key, name=name, name_en=item.get("name_en", str),
            license_required=item.get("license_required", bool),
            license_pattern=item.get("license_pattern", str, None),
        ))
        _check_pattern(item, "license_pattern", categories[-1].license_pattern)
    if not categories:
        raise doc.fail("category", "at least one category is needed")
    return tuple(categories)


def _license_pattern(doc: TableReader) -> str | None:
    """The optional top-level ``license_pattern`` of categories.toml (default for every category)."""
    pattern = doc.get("license_pattern", str, None)
    _check_pattern(doc, "license_pattern", pattern)
    return pattern


def _check_pattern(reader: TableReader, key: str, pattern: str | None) -> None:
    if pattern is None:
        return
    try:
        re.compile(pattern)
    except re.error as exc:
        raise reader.fail(key, f"not a valid regular expression: {exc}") from None


def _calendar(doc: TableReader) -> Calendar:
    year = doc.get("year", int)
    quarters = []
    doc.only("year", "quarter", "annual")
    for item in doc.tables("quarter"):
        item.only("key", "broadcast_start", "broadcast_end", "submission_deadline",
                  "forwarding_deadline")
        dates = {k: item.get(k, dt.date) for k in (
            "broadcast_start", "broadcast_end", "submission_deadline", "forwarding_deadline")}
        if dates["broadcast_end"] < dates["broadcast_start"]:
            raise item.fail("broadcast_end", f"{dates['broadcast_end']} is before "
                            f"broadcast_start {dates['broadcast_start']}")
        if dates["submission_deadline"] < dates["broadcast_end"]:
            raise item.fail("submission_deadline", f"{dates['submission_deadline']} is before "
                            f"the window ends ({dates['broadcast_end']})")
        if dates["forwarding_deadline"] < dates["submission_deadline"]:
            raise item.fail("forwarding_deadline", f"{dates['forwarding_deadline']} is before "
                            f"submission_deadline {dates['submission_deadline']}")
        quarters.append(Quarter(key=item.get("key", str), **dates))
    for previous, current in zip(quarters, quarters[1:]):
        if current.broadcast_start <= previous.broadcast_end:
            raise doc.fail("quarter", f"window {current.key} overlaps {previous.key}")
    keys = [q.key for q in quarters]
    annual = doc.child("annual", doc.get("annual", dict))
    annual.only("from_quarters", "dissemination_with", "dissemination_period_start",
                "dissemination_period_end")
    from_quarters = tuple(annual.get("from_quarters", list))
    with_quarter = annual.get("dissemination_with", str)
    for key in (*from_quarters, with_quarter):
        if key not in keys:
            raise annual.fail("from_quarters" if key in from_quarters else "dissemination_with",
                              f"unknown quarter {key!r} (known: {', '.join(keys)})")
    start = annual.get("dissemination_period_start", dt.date)
    end = annual.get("dissemination_period_end", dt.date)
    if end < start:
        raise annual.fail("dissemination_period_end", f"{end} is before {start}")
    return Calendar(year=year, quarters=tuple(quarters), annual_from_quarters=from_quarters,
                    dissemination_with=with_quarter, dissemination_period_start=start,
                    dissemination_period_end=end)


def _criterion(item: TableReader) -> Criterion:
    item.only("key", "label", "label_en", "rubric", "rubric_en", "min", "max", "step", "weight")
    low, high, step = item.number("min"), item.number("max"), item.number("step")
    weight = item.number("weight")
    if high <= low:
        raise item.fail("max", f"{high} must be greater than min {low}")
    if step <= 0 or step > high - low:
        raise item.fail("step", f"{step} must be positive and at most max - min")
    if abs(round((high - low) / step) * step - (high - low)) > 1e-9:
        raise item.fail("step", f"{step} does not divide the range {low}..{high}")
    if weight <= 0:
        raise item.fail("weight", f"{weight} must be positive")
    return Criterion(key=item.get("key", str), label=item.get("label", str),
                     label_en=item.get("label_en", str), rubric=item.get("rubric", str),
                     rubric_en=item.get("rubric_en", str, ""), min=low, max=high,
                     step=step, weight=weight)


def _criteria_set(key: str, doc: TableReader) -> CriteriaSet:
    doc.only("label", "label_en", "criterion", "highlight", "bar")
    criteria = tuple(_criterion(item) for item in doc.tables("criterion"))
    if not criteria:
        raise doc.fail("criterion", "at least one criterion is needed")
    keys = [c.key for c in criteria]
    duplicated = {k for k in keys if keys.count(k) > 1}
    if duplicated:
        raise doc.fail("criterion", f"key {sorted(duplicated)[0]!r} is used twice")
    total = sum(c.weight for c in criteria)
    if any(c.weight / total > 0.9 for c in criteria) and len(criteria) > 1:
        raise doc.fail("criterion", "one criterion carries more than 90% of the weight; "
                       "the others would not count")
    # Weights are relative; store them normalised so totals stay on the criteria scale.
    criteria = tuple(Criterion(**{**c.__dict__, "weight": c.weight / total}) for c in criteria)
    scales = {(c.min, c.max) for c in criteria}
    if len(scales) > 1:
        raise doc.fail("criterion", "all criteria of a set must share one scale (min, max)")
    highlights = []
    for item in doc.tables("highlight") if "highlight" in doc.table else []:
        item.only("key", "label", "label_en", "detail")
        highlights.append(Highlight(key=item.get("key", str), label=item.get("label", str),
                                    label_en=item.get("label_en", str),
                                    detail=tuple(item.get("detail", list, []))))
    bar = doc.number("bar", None)
    if bar is not None and not criteria[0].min <= bar <= criteria[0].max:
        raise doc.fail("bar", f"{bar} is outside the scale {criteria[0].min}..{criteria[0].max}")
    return CriteriaSet(key=key, label=doc.get("label", str), label_en=doc.get("label_en", str),
                       criteria=criteria, highlights=tuple(highlights), bar=bar)


def _stages(doc: TableReader, category_names: set[str]) -> tuple[dict, dict, AssignmentPolicy, IntakePolicy]:
    doc.only("stage", "shortlist", "assignment", "intake")
    stages = {}
    stage_table = doc.child("stage", doc.get("stage", dict))
    for key in ("provincial", "national"):
        item = stage_table.child(key, stage_table.get(key, dict))
        item.only("label", "label_en", "recommend_cap", "cap_overridable")
        cap = item.number("recommend_cap", None)
        if cap is not None and not 0 < cap <= 1:
            raise item.fail("recommend_cap", f"{cap} must be a share between 0 and 1")
        stages[key] = Stage(key=key, label=item.get("label", str), label_en=item.get("label_en", str),
                            recommend_cap=cap, cap_overridable=item.get("cap_overridable", bool, False))
    shortlists = {}
    shortlist_table = doc.child("shortlist", doc.get("shortlist", dict))
    for kind in ("quarter", "annual"):
        item = shortlist_table.child(kind, shortlist_table.get(kind, dict))
        item.only("slots", "min_score")
        slots_reader = item.child("slots", item.get("slots", dict))
        slots = {}
        for name in slots_reader.table:
            count = slots_reader.get(name, int)
            if name not in category_names:
                raise slots_reader.fail(name, f"unknown category {name!r} (see categories.toml)")
            if count < 0:
                raise slots_reader.fail(name, f"{count} must not be negative")
            slots[name] = count
        shortlists[kind] = ShortlistPolicy(kind=kind, slots=slots, min_score=item.number("min_score", None))
    assignment = _assignment(doc.child("assignment", doc.get("assignment", dict)), tuple(stages))
    intake_reader = doc.child("intake", doc.get("intake", dict))
    intake_reader.only("near_duplicate_threshold")
    threshold = intake_reader.number("near_duplicate_threshold")
    if not 0 < threshold <= 1:
        raise intake_reader.fail("near_duplicate_threshold", f"{threshold} must be in (0, 1]")
    return stages, shortlists, assignment, IntakePolicy(near_duplicate_threshold=threshold)


def _assignment(assign: TableReader, stage_keys: tuple[str, ...]) -> AssignmentPolicy:
    assign.only("per_work", "recuse_same_organisation", "recuse_same_province", "small_category_max")
    per_work = assign.get("per_work", int)
    if per_work < 1:
        raise assign.fail("per_work", f"{per_work} must be at least 1")
    small = assign.get("small_category_max", int, 0)
    if small < 0:
        raise assign.fail("small_category_max", f"{small} must not be negative (0 switches panels off)")
    # One switch for every stage, or a table per stage; the provincial stage recuses by
    # default (a bureau's own experts do not rate its own province's entries).
    province = assign.table.get("recuse_same_province", {})
    if isinstance(province, bool):
        by_stage = {key: province for key in stage_keys}
    else:
        reader = assign.child("recuse_same_province", assign.get("recuse_same_province", dict, {}))
        reader.only(*stage_keys)
        by_stage = {key: reader.get(key, bool, key == "provincial") for key in stage_keys}
    return AssignmentPolicy(per_work=per_work, recuse_same_organisation=assign.get("recuse_same_organisation", bool),
                            recuse_same_province=by_stage, small_category_max=small)


def load_rules(config_dir: str | os.PathLike | None = None) -> Rules:
    """Load and validate every file in ``config_dir`` (default ``$TUIYOU_CONFIG`` or ``config/``)."""
    return _load_cached(config_directory(config_dir, DEFAULT_CONFIG_DIR))


@functools.lru_cache(maxsize=8)
def _load_cached(directory: Path) -> Rules:
    categories_doc = TableReader("categories.toml", read_toml(directory / "categories.toml"))
    categories = _categories(categories_doc)
    license_pattern = _license_pattern(categories_doc)
    calendars = {}
    for path in sorted(directory.glob("calendar-*.toml")):
        calendar = _calendar(TableReader(path.name, read_toml(path)))
        if path.stem != f"calendar-{calendar.year}":
            raise ConfigError(path.name, "year", f"{calendar.year} does not match the file name")
        calendars[calendar.year] = calendar
    if not calendars:
        raise ConfigError("calendar-YYYY.toml", "-", f"no calendar file in {directory}")
    criteria_doc = TableReader("criteria.toml", read_toml(directory / "criteria.toml"))
    criteria_doc.only("works", "dissemination")
    criteria_sets = {key: _criteria_set(key, criteria_doc.child(key, criteria_doc.get(key, dict)))
                     for key in ("works", "dissemination")}
    stages, shortlists, assignment, intake = _stages(
        TableReader("stages.toml", read_toml(directory / "stages.toml")), {c.name for c in categories})
    return Rules(categories=categories, calendars=calendars, criteria_sets=criteria_sets,
                 stages=stages, shortlists=shortlists, assignment=assignment, intake=intake,
                 license_pattern=license_pattern)
