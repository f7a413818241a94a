"""A ReportLab paragraph that breaks its lines once per width (a fast path of layout.py's; tests/unit/
test_wrap_once.py proves the PDFs it makes are byte for byte the plain `Paragraph`'s).

Platypus asks a paragraph for its size more than once at the same width: the table sizing its row, a KeepTogether
measuring its content, the frame placing it, the table again when it draws. Each ask broke the text into lines anew,
and breaking lines is most of what a paragraph costs: an invoice's 13 paragraphs were broken 28 times.
"""

from typing import Any

from reportlab.platypus import Paragraph
from reportlab.platypus.paragraph import _FUZZ  # type: ignore[attr-defined]  # the width below which nothing fits


class WrapOnceParagraph(Paragraph):
    """`Paragraph`, its line breaking kept per width asked: asked again at a width, it restores what that first
    ask computed (its size, its lines and the widths they were broken for), which is all `draw` and `split` read."""

    blPara: Any  # set by `wrap`: the lines broken for the last width asked
    _wrapWidths: list[float]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._broken: dict[float, tuple[float, float, Any, list[float]]] = {}

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        if availWidth < _FUZZ:
            return super().wrap(availWidth, availHeight)  # cannot fit: nothing is broken, nothing to keep
        kept = self._broken.get(availWidth)
        if kept is None:
            width, height = super().wrap(availWidth, availHeight)
            self._broken[availWidth] = (width, height, self.blPara, self._wrapWidths)
            return width, height
        self.width, self.height, self.blPara, self._wrapWidths = kept
        return self.width, self.height
