"""The CJK face of printed documents, found through fontconfig: Noto Serif CJK SC (Debian's
``fonts-noto-cjk``), a serif "song-like" face as GB/T 9704-2012 asks; else another Chinese face
with a logged warning. Chinese is never printed in a font without it (no tofu boxes): with no
Chinese font at all the export stops with FontMissing, naming the package to install."""
from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: What to install when no Chinese font is found (Debian/Ubuntu package).
FONT_PACKAGE = "fonts-noto-cjk"
#: The face documents are set in (title and body), then the fall-backs in order of likeness.
WANTED = "Noto Serif CJK SC"
FALLBACKS = ("AR PL UMing CN", "Noto Sans CJK SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Droid Sans Fallback")
USABLE = (".ttf", ".ttc", ".otf")
log = logging.getLogger(__name__)


class FontMissing(RuntimeError):
    """No usable CJK font: the message names the package to install."""

    def __init__(self):
        super().__init__(f"no Chinese (CJK) font found through fontconfig; install one, e.g. "
                         f"`apt-get install {FONT_PACKAGE}`, then export again")


@dataclass(frozen=True)
class CjkFont:
    """A font file, the face's index inside a collection (.ttc), its family, and whether it is the wanted face."""

    path: Path
    index: int
    family: str
    wanted: bool


def _run(*args: str) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def _chinese_faces() -> dict[tuple[str, int], str]:
    """(file, index) → family of every upright, regular-weight face fontconfig says covers Chinese."""
    faces = {}
    for line in _run("fc-list", ":lang=zh", "-f", "%{file}|%{index}|%{weight}|%{slant}|%{family[0]}\n").splitlines():
        parts = [part.strip() for part in line.split("|", 4)]
        if len(parts) == 5 and parts[0] and parts[1].isdigit() and _regular(parts[2], parts[3]):
            faces[(parts[0], int(parts[1]))] = parts[4]
    return faces


def _regular(weight: str, slant: str) -> bool:
    """fontconfig's weight 80 is regular (book 75, medium 100); slant 0 is upright; unknown counts as regular."""
    try:
        return 70 <= float(weight or 80) <= 100 and float(slant or 0) == 0
    except ValueError:
        return True


def find_cjk_font() -> CjkFont:
    """The document face (or a fall-back, logged); FontMissing when fontconfig knows no Chinese font."""
    if not shutil.which("fc-list"):
        raise FontMissing()
    faces = _chinese_faces()
    usable = {key: family for key, family in faces.items()
              if key[0].lower().endswith(USABLE) and Path(key[0]).exists()}
    for family in (WANTED, *FALLBACKS):
        for (path, index), found in sorted(usable.items()):
            if found == family:
                return _chosen(CjkFont(Path(path), index, found, family == WANTED))
    if usable:
        (path, index), family = sorted(usable.items())[0]
        return _chosen(CjkFont(Path(path), index, family, False))
    raise FontMissing()


def _chosen(font: CjkFont) -> CjkFont:
    if not font.wanted:
        _warn_once(font.family)
    return font


@functools.lru_cache(maxsize=4)
def _warn_once(family: str) -> None:
    log.warning("%s is not installed: documents are set in %s instead (install %s for the serif face)",
                WANTED, family, FONT_PACKAGE)
