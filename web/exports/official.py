"""The page of a Chinese official document (GB/T 9704-2012 as the reference), for every PDF the
product prints: A4, the issuing body in red over a red rule, the title in the serif CJK face set
bold, the body in the same song-like face, the page number centred as "— 1 —", and beneath it on
every page a small line with the snapshot's SHA-256, the audit log's head and "第 X 页 / 共 Y 页".
A draft carries a diagonal "草稿 · 未签署" on every page; a signed document ends with a seal.

Text is drawn with ``FPDF.text`` and wrapped here (a width per character, cached): the table of
5,000 rows is the hot path of the full-rankings export (docs/benchmarks.md)."""
from __future__ import annotations

from contextlib import contextmanager

from fpdf import FPDF
from fpdf.enums import TextMode

from .fonts import CjkFont

RED = (200, 16, 16)
#: Punctuation that never begins a line in Chinese typesetting (it stays at the end of the line before).
NO_LINE_START = frozenset("，。、；：？！）》」』】〕”’…—·,.;:?!)")
PAGE_W = 210.0
MARGIN_X = 20.0


class OfficialPdf(FPDF):
    """An A4 document in one CJK face with the official page furniture."""

    def __init__(self, font: CjkFont, *, watermark: str | None = None, footer_note: str = ""):
        super().__init__(format="A4", unit="mm")
        self.set_margins(MARGIN_X, 20, MARGIN_X)
        self.set_auto_page_break(True, margin=26)
        self.add_font("song", "", str(font.path), collection_font_number=font.index)
        # The embedded subset keeps the whole face's bounding box: recomputing it walks every CFF
        # outline of the subset on save (about half the export's time for a CJK face).
        self.fonts["song"].ttfont.recalcBBoxes = False
        self.watermark = watermark
        self.footer_note = footer_note
        self._widths: dict[tuple[float, str], float] = {}
        self.alias_nb_pages(None)  # the total is written by output(), not substituted
        self.set_font("song", size=10.5)

    # -- page furniture -------------------------------------------------------------------
    def header(self):
        if not self.watermark:
            return
        size = self.font_size_pt
        with self.local_context(text_color=(215, 70, 70), fill_opacity=0.22):
            self.set_font("song", size=58)
            width = self.get_string_width(self.watermark)
            with self.rotation(45, x=PAGE_W / 2, y=150):
                self.text(PAGE_W / 2 - width / 2, 150, self.watermark)
        # the same words level at the head of the page, where a reader (and text extraction) meets them first
        with self.local_context(text_color=RED):
            self.set_font("song", size=10)
            self.text(PAGE_W - MARGIN_X - self.get_string_width(self.watermark), 12, self.watermark)
        self.set_font("song", size=size)

    def footer(self):
        """Nothing while pages are written: :meth:`output` stamps every footer once the total is known."""

    def output(self, *args, **kwargs):
        """The document, after each page got its footer: "— n —" centred, then the note and
        "第 n 页 / 共 N 页" (drawn with text(): cell()'s line breaking costs more than a table row)."""
        total = self.pages_count
        for number in range(1, total + 1):
            self.page = number
            self.current_font_is_set_on_page = False  # this page's content must name the font again
            self.set_text_color(0)
            self.set_font("song", size=10.5)
            mark = f"— {number} —"
            self.text((PAGE_W - self.width_of(mark)) / 2, self.h - 15, mark)
            self.set_text_color(90)
            self.set_font("song", size=6)
            note = f"{self.footer_note}  第 {number} 页 / 共 {total} 页".strip()
            for i, line in enumerate(self.wrap(note, PAGE_W - 2 * MARGIN_X)):
                self.text((PAGE_W - self.width_of(line)) / 2, self.h - 10 + i * 3.2, line)
        self.set_text_color(0)
        return super().output(*args, **kwargs)

    # -- text ---------------------------------------------------------------------------
    def texts(self, items: list[tuple[float, float, str]]) -> None:
        """Several strings in the current font and text colour as one text object: what ``text()``
        writes per string (BT x y Td (…) Tj ET), with relative moves. The table's hot path: 5,000
        rows of 8 cells each are 40,000 ``text()`` calls otherwise (docs/benchmarks.md)."""
        if not items:
            return
        if self.page == 0:
            raise RuntimeError("texts() before add_page()")
        if not self.current_font_is_set_on_page:
            self._out(self._set_font_for_page(self.current_font, self.font_size_pt))
        k, h, encode = self.k, self.h, self.current_font.encode_text
        parts = ["q", self.text_color.serialize().lower(), "BT"]
        before_x = before_y = 0.0
        for x, y, text in items:
            at_x, at_y = x * k, (h - y) * k
            parts.append(f"{at_x - before_x:.2f} {at_y - before_y:.2f} Td {encode(text)}")
            before_x, before_y = at_x, at_y
        parts.append("ET Q")
        self._out(" ".join(parts))

    @contextmanager
    def bold(self, width: float = 0.3):
        """The face set bold by stroking its outlines (one font file: no second face to load)."""
        with self.local_context(text_mode=TextMode.FILL_STROKE, line_width=width):
            yield

    def width_of(self, text: str) -> float:
        """The width of ``text`` at the current size (cached per character)."""
        size, total = self.font_size_pt, 0.0
        widths = self._widths
        for ch in text:
            w = widths.get((size, ch))
            if w is None:
                w = widths[(size, ch)] = self.get_string_width(ch)
            total += w
        return total

    def wrap(self, text: str, width: float) -> list[str]:
        """``text`` broken into lines no wider than ``width`` (any character may end a line in Chinese)."""
        if not text:
            return [""]
        lines: list[str] = []
        for paragraph in str(text).split("\n"):
            line, used = "", 0.0
            size, widths = self.font_size_pt, self._widths
            for ch in paragraph:
                w = widths.get((size, ch))
                if w is None:
                    w = widths[(size, ch)] = self.get_string_width(ch)
                if used + w > width and line and ch not in NO_LINE_START:
                    lines.append(line)
                    line, used = "", 0.0
                line += ch
                used += w
            lines.append(line)
        return lines

    def paragraph(self, text: str, *, size: float = 10.5, height: float = 5.6, indent: float = 0.0,
                  color=(0, 0, 0)) -> None:
        """Wrapped text from the left margin (plus ``indent``), with page breaks between lines."""
        self.set_font("song", size=size)
        self.set_text_color(*color)
        width = PAGE_W - 2 * MARGIN_X - indent
        for line in self.wrap(text, width):
            self.need(height)
            self.text(MARGIN_X + indent, self.y + height * 0.75, line)
            self.y += height
        self.set_text_color(0)

    def centred(self, text: str, *, size: float, height: float, bold: bool = False, color=(0, 0, 0)) -> None:
        """Centred lines (wrapped when too wide), as titles are set."""
        self.set_font("song", size=size)
        self.set_text_color(*color)
        self.set_draw_color(*color)
        for line in self.wrap(text, PAGE_W - 2 * MARGIN_X - 10):
            x = (PAGE_W - self.width_of(line)) / 2
            if bold:
                with self.bold():
                    self.text(x, self.y + height * 0.75, line)
            else:
                self.text(x, self.y + height * 0.75, line)
            self.y += height
        self.set_text_color(0)
        self.set_draw_color(0)

    def need(self, height: float) -> bool:
        """Start a new page when ``height`` does not fit on this one; whether it did."""
        if self.y + height > self.page_break_trigger:
            self.add_page()
            return True
        return False

    # -- the head and the end of a document ---------------------------------------------
    def masthead(self, issuer: str, title: str, subtitle: str) -> None:
        """The issuing body in red over a red rule, then the title and the stage line."""
        self.centred(issuer, size=20, height=10, bold=True, color=RED)
        self.y += 2
        self.set_draw_color(*RED)
        self.set_line_width(0.6)
        self.line(MARGIN_X, self.y, PAGE_W - MARGIN_X, self.y)
        self.set_line_width(0.2)
        self.set_draw_color(0)
        self.y += 7
        self.centred(title, size=18, height=9.5, bold=True)
        self.centred(f"（{subtitle}）", size=14, height=8)
        self.y += 3

    def closing(self, issuer: str, date_text: str, seal: tuple[str, str] | None = None) -> None:
        """The issuing body and the date at the end, right-aligned; a signed document's seal over them."""
        self.need(40)
        self.y += 10
        self.set_font("song", size=12)
        right = PAGE_W - MARGIN_X - 8
        top = self.y
        for line in (issuer, date_text):
            self.text(right - self.width_of(line), self.y + 5, line)
            self.y += 8
        if seal is not None:
            self._seal(right - self.width_of(issuer) / 2, top + 6, *seal)
        self.y += 6

    def _seal(self, cx: float, cy: float, top: str, bottom: str) -> None:
        with self.local_context(draw_color=RED, text_color=RED, line_width=0.8, fill_opacity=0.85):
            self.circle(cx, cy, 17)
            self.set_line_width(0.3)
            self.circle(cx, cy, 15.5)
            self.set_font("song", size=13)
            with self.bold(0.2):
                self.text(cx - self.width_of("★") / 2, cy + 2.2, "★")
            self.set_font("song", size=8)
            self.text(cx - self.width_of(top) / 2, cy - 6, top)
            self.text(cx - self.width_of(bottom) / 2, cy + 10, bottom)
