"""Checks of list filters that every service's list endpoints share: a range's two ends in order, amounts bounded."""

from decimal import Decimal
from typing import Any

from throughline_platform.problems import Unprocessable

MAX_FILTER_AMOUNT = Decimal("100000000000000")  # no stored amount is larger (Numeric(18, 4))


def check_range(low_name: str, low: Any, high_name: str, high: Any) -> None:
    """422 when both ends are given and `low` lies after `high` (dates or amounts)."""
    if low is not None and high is not None and low > high:
        raise Unprocessable(f"{low_name} ({low}) lies after {high_name} ({high}).",
                            errors=[{"loc": ["query", low_name], "msg": f"must not be after {high_name}"}])
