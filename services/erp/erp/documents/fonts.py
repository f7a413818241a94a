"""The fonts invoice PDFs embed: Debian's DejaVu Sans and Sans Bold, without their TrueType hinting.

Hinting (instructions for drawing glyphs on low-resolution screens, which PDF viewers do without) is half of each
subset ReportLab embeds: without it every invoice is ~20 KB (40 %) smaller for the database, the mail and the SMTP
server. Removing it takes fontTools ~0.7 s a face and leaves ~30 MB of Python objects a process never gives back,
so it runs once per machine, in a child process (`python -m erp.documents.fonts SOURCE TARGET`), and the result is
kept in the temporary directory for every process after it, keyed by the source file's size and time.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

# Debian's fonts-dejavu-core (tests/ensure_pango.sh installs it; the Dockerfile too).
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = {"sans": "DejaVuSans.ttf", "sans-bold": "DejaVuSans-Bold.ttf"}


def without_hinting(source: Path, target: Path) -> None:
    """Write `source` with every glyph but without its hinting to `target` (in this process: the child's work)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(source))
    options = subset.Options()
    options.hinting = False
    options.notdef_outline = True
    options.layout_features = []  # ReportLab does no shaping
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.drop_tables = [*options.drop_tables, "FFTM"]  # FontForge's timestamps, which it cannot subset
    subsetter = subset.Subsetter(options)
    subsetter.populate(glyphs=font.getGlyphOrder())
    subsetter.subset(font)
    font.save(str(target))


def prepared(name: str) -> Path:
    """The file of font `name` (a key of FONTS) without hinting, made by a child process the first time."""
    source = FONT_DIR / FONTS[name]
    stat = source.stat()
    folder = Path(tempfile.gettempdir()) / "throughline-fonts"
    target = folder / f"{source.stem}-{stat.st_size}-{int(stat.st_mtime)}-unhinted.ttf"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f"{target.name}.{os.getpid()}.tmp"
        subprocess.run([sys.executable, "-m", "erp.documents.fonts", str(source), str(partial)], check=True,
                       capture_output=True, timeout=120)
        partial.replace(target)  # atomic: two processes making it at once both end with a whole file
    return target


if __name__ == "__main__":
    without_hinting(Path(sys.argv[1]), Path(sys.argv[2]))
