"""Rule-based auto-categorisation (pure: the rules in, the winning rule out)."""

import re
from collections.abc import Sequence
from typing import Protocol, TypeVar

from erp.expenses.models import RuleField


class Rule(Protocol):
    @property
    def field(self) -> str: ...
    @property
    def pattern(self) -> str: ...
    @property
    def priority(self) -> int: ...


R = TypeVar("R", bound=Rule)


def matching_rule(rules: Sequence[R], merchant: str | None, description: str | None) -> R | None:
    """The rule that files an expense: its pattern occurs (case-insensitively, as whole words) in the field it names;
    the lowest priority number wins, then the longest (most specific) pattern, then alphabetical order."""
    texts: dict[str, str] = {RuleField.MERCHANT: (merchant or "").casefold(),
                             RuleField.DESCRIPTION: (description or "").casefold()}
    texts[RuleField.ANY] = texts[RuleField.MERCHANT] + "\n" + texts[RuleField.DESCRIPTION]
    candidates = [r for r in rules if r.pattern.strip() and _occurs(r.pattern, texts.get(r.field, ""))]
    if not candidates:
        return None
    return min(candidates, key=lambda r: (r.priority, -len(r.pattern), r.pattern.casefold()))


def _occurs(pattern: str, text: str) -> bool:
    """Whole words only, so that 'inn' does not match 'dinner' nor 'aws' match 'laws'."""
    return re.search(r"(?<!\w)" + re.escape(pattern.strip().casefold()) + r"(?!\w)", text) is not None
