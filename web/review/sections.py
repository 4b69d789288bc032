"""The shortlist page's sections: one per category, the entries it shows of that category and how
many it leaves to the category's own pages (plain Python over the view's entries, no Flask)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    """One category on the shortlist page."""

    name: str
    rows: list[dict]  # every entry of the category, by rank (the band chart reads them)
    shown: list[dict]  # the entries listed on this page
    included: int  # entries of the category on the list
    total: int
    page: int = 1  # the category's page shown (one category at a time), else 1
    pages: int = 1

    @property
    def hidden(self) -> int:
        """Entries of the category not listed here (reached on its own pages)."""
        return self.total - len(self.shown)


def _head(rows: list[dict], window: int) -> list[dict]:
    """The entries up to the last one included or proposed and ``window`` more, then every entry
    further down that the chair must see: moved, included, proposed or straddling the cut."""
    last = max((i for i, e in enumerate(rows) if e["included"] or e["proposed"]), default=-1)
    end = last + 1 + window
    return rows[:end] + [e for e in rows[end:]
                         if e["included"] or e["proposed"] or e["straddles_cut"] or e["override_reason"]]


def shortlist_sections(entries: list[dict], *, category: str, windowed: bool, page: int, window: int,
                       page_size: int) -> list[Section]:
    """The sections of the shortlist page: every category (``category`` empty) or one.

    Not ``windowed``: every entry. Windowed, every category: the head of each (:func:`_head`);
    one category: its ``page``-th page of ``page_size`` entries."""
    groups: dict[str, list[dict]] = {}
    for entry in entries:
        groups.setdefault(entry["category"], []).append(entry)
    if category:
        groups = {category: groups[category]} if category in groups else {}
    sections = []
    for name, rows in groups.items():
        included = sum(1 for e in rows if e["included"])
        if not windowed:
            sections.append(Section(name, rows, rows, included, len(rows)))
        elif not category:
            sections.append(Section(name, rows, _head(rows, window), included, len(rows)))
        else:
            pages = max(1, -(-len(rows) // page_size))
            chosen = min(page, pages)
            shown = rows[(chosen - 1) * page_size: chosen * page_size]
            sections.append(Section(name, rows, shown, included, len(rows), chosen, pages))
    return sections
