"""Find a CJK font on this system through fontconfig, so the PDF carries Chinese as text."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

#: What to install when no Chinese font is found (Debian/Ubuntu package).
FONT_PACKAGE = "fonts-wqy-microhei"
PREFERRED = ("WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Droid Sans Fallback", "Noto Sans CJK SC")
# fpdf2 embeds TrueType outlines; CFF-based OpenType CJK fonts are a last resort.
USABLE = (".ttf", ".ttc")


class FontMissing(RuntimeError):
    """No usable CJK font: the message names the package to install."""

    def __init__(self):
        super().__init__(f"no Chinese (CJK) TrueType font found through fontconfig; install one, e.g. "
                         f"`apt-get install {FONT_PACKAGE}`, then export again")


def _run(*args: str) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def find_cjk_font() -> Path:
    """The path of a TrueType font that covers Chinese; FontMissing when there is none."""
    if not shutil.which("fc-list"):
        raise FontMissing()
    chinese = {line.split(":")[0].strip() for line in _run("fc-list", ":lang=zh", "file").splitlines() if line.strip()}
    for family in PREFERRED:
        path = _run("fc-match", "-f", "%{file}", f"{family}:lang=zh").strip()
        if path in chinese and path.lower().endswith(USABLE) and Path(path).exists():
            return Path(path)
    for path in sorted(chinese):
        if path.lower().endswith(USABLE) and Path(path).exists():
            return Path(path)
    raise FontMissing()
