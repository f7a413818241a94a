"""The committed bank statement fixtures (tests/erp_billing/fixtures/), filled in for a test: its invoices' RF
references and amounts, today's date, and a tag that makes its transactions its own (two tests importing the same
fixture must not see each other's lines as duplicates)."""

import uuid
from datetime import date
from pathlib import Path
from string import Template

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fill(name: str, **values: object) -> bytes:
    """The fixture with every `${placeholder}` replaced (a missing value is an error, not an empty string)."""
    return Template((FIXTURES / name).read_text()).substitute({k: str(v) for k, v in values.items()}).encode()


def tag() -> str:
    return uuid.uuid4().hex[:10].upper()


def spaced(reference: str) -> str:
    """An RF reference the way people type it: in groups of four."""
    return " ".join(reference[i:i + 4] for i in range(0, len(reference), 4))


def swift_amount(amount: str) -> str:
    """MT940 writes 1234.50 as 1234,50."""
    return amount.replace(".", ",")


def german_amount(amount: str) -> str:
    """1234.50 as a German bank's CSV writes it: 1.234,50."""
    whole, _, cents = amount.partition(".")
    grouped = f"{int(whole):,}".replace(",", ".")
    return f"{grouped},{cents or '00'}"


def swift_date(day: date) -> str:
    return day.strftime("%y%m%d")
