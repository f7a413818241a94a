from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Entity


class TaxCategory(StrEnum):
    """What kind of tax a rate is; each maps to an EN 16931 VAT category code (`EN16931_CODE`)."""

    STANDARD = "standard"
    REDUCED = "reduced"
    ZERO = "zero"  # zero-rated: taxable at 0 %
    EXEMPT = "exempt"  # exempt, with the legal basis printed
    REVERSE_CHARGE = "reverse_charge"  # the buyer accounts for the VAT; the legal note is printed


# The UNTDID 5305 codes EN 16931 uses (BT-118, BT-151): a reduced rate is still category S, at its own percent.
EN16931_CODE: dict[str, str] = {
    TaxCategory.STANDARD: "S", TaxCategory.REDUCED: "S", TaxCategory.ZERO: "Z", TaxCategory.EXEMPT: "E",
    TaxCategory.REVERSE_CHARGE: "AE",
}
# Categories whose percent is always 0, and those that need a legal note on the invoice.
ZERO_PERCENT = frozenset({TaxCategory.ZERO, TaxCategory.EXEMPT, TaxCategory.REVERSE_CHARGE})
NOTE_REQUIRED = frozenset({TaxCategory.EXEMPT, TaxCategory.REVERSE_CHARGE})


class TaxRate(Entity):
    """A tax rate lines can name. Lines copy its percent, category and note when written, so editing a rate (or
    archiving it: `active = false`) never changes an invoice; a rate is never deleted."""

    __tablename__ = "tax_rates"

    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(20))  # a TaxCategory
    percent: Mapped[Decimal] = mapped_column(Numeric(7, 4))
    legal_note: Mapped[str | None] = mapped_column(Text)
    is_default: Mapped[bool] = mapped_column(default=False)  # what a line gets when nothing else decides
    active: Mapped[bool] = mapped_column(default=True)
