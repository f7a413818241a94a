"""A bank's CSV export read into the neutral shape, through a saved column mapping.

Banks without CAMT.053 or MT940 (or a person with only the online banking's CSV) export a table whose columns,
separators and date format differ per bank. A mapping, saved once per bank account and chosen at import, says
which column holds what (by the header's names), and how numbers and dates are written. A CSV carries no
statement identity and no balances: its lines are the whole statement.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from erp.banking.statement import (
    Direction,
    ParsedStatement,
    StatementError,
    StatementFormat,
    StatementLine,
    account_identity,
    checked_amount,
    checked_currency,
    clean_text,
    iban_or_none,
    reference_or_none,
    with_transaction_keys,
)
from throughline_events.money import parse_decimal

# The choices a mapping has (its schema offers exactly these).
DateFormat = Literal["%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%Y%m%d"]
Delimiter = Literal[",", ";", "\t", "|"]
DecimalSeparator = Literal[".", ","]
Encoding = Literal["utf-8", "cp1252", "latin-1"]


@dataclass(frozen=True)
class CsvColumns:
    """Header names of the columns; only the date and the amount are required. The amount is signed: a
    negative one is money out (a debit)."""

    booking_date: str
    amount: str
    currency: str | None = None
    counterparty: str | None = None
    iban: str | None = None
    reference: str | None = None  # the remittance text, where an RF reference is looked for
    value_date: str | None = None
    transaction_id: str | None = None  # the bank's id of the transaction, when the export has one


@dataclass(frozen=True)
class CsvMapping:
    account: str  # the bank account the export is of (its IBAN)
    columns: CsvColumns
    currency: str | None = None  # when there is no currency column
    delimiter: Delimiter = ";"
    decimal_separator: DecimalSeparator = ","
    date_format: DateFormat = "%d.%m.%Y"
    encoding: Encoding = "utf-8"


def parse(data: bytes, mapping: CsvMapping) -> list[ParsedStatement]:
    try:
        text = data.decode("utf-8-sig" if mapping.encoding == "utf-8" else mapping.encoding)
    except UnicodeDecodeError as exc:
        raise StatementError(None, f"the file is not {mapping.encoding} text (byte {exc.start}); check the "
                                   f"mapping's encoding") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter, strict=True)
    try:
        header = next((row for row in reader if any(cell.strip() for cell in row)), None)
        if header is None:
            raise StatementError(None, "the file is empty")
        table = _Table(mapping, [cell.strip() for cell in header], reader.line_num)
        lines = [line for row in reader if any(cell.strip() for cell in row)
                 if (line := table.line(row, reader.line_num)) is not None]
    except csv.Error as exc:
        raise StatementError(f"line {reader.line_num}", f"not readable as CSV ({exc})") from None
    currency = mapping.currency or (lines[0].currency if lines else None)
    if currency is None:
        raise StatementError(None, "no currency: the mapping names neither a currency nor a currency column")
    statement = ParsedStatement(format=StatementFormat.CSV, account=account_identity(mapping.account),
                                currency=checked_currency(currency, "the mapping's currency"), lines=tuple(lines))
    return [with_transaction_keys(statement)]


class _Table:
    def __init__(self, mapping: CsvMapping, header: list[str], header_line: int) -> None:
        self.mapping = mapping
        names = {name.casefold(): n for n, name in enumerate(header)}
        self.index: dict[str, int] = {}
        for role, name in vars(mapping.columns).items():
            if name is None:
                continue
            if name.strip().casefold() not in names:
                raise StatementError(f"line {header_line}", f"no column {name!r} (the mapping's {role}); the header "
                                                            f"has {', '.join(repr(h) for h in header)}")
            self.index[role] = names[name.strip().casefold()]

    def cell(self, row: list[str], role: str) -> str | None:
        n = self.index.get(role)
        if n is None or n >= len(row):
            return None
        return row[n].strip() or None

    def where(self, line: int, role: str) -> str:
        return f"line {line}, column {getattr(self.mapping.columns, role)!r}"

    def line(self, row: list[str], number: int) -> StatementLine | None:
        raw_amount = self.cell(row, "amount")
        if raw_amount is None:
            raise StatementError(self.where(number, "amount"), "the amount is empty")
        signed = self.amount(raw_amount, self.where(number, "amount"))
        currency = self.cell(row, "currency") or self.mapping.currency
        if currency is None:
            raise StatementError(self.where(number, "currency"), "the currency is empty")
        currency = checked_currency(currency, self.where(number, "currency"))
        amount = checked_amount(abs(signed), currency, self.where(number, "amount"))
        if amount == 0:
            return None
        booked = self.date(row, "booking_date", number)
        if booked is None:
            raise StatementError(self.where(number, "booking_date"), "the date is empty")
        return StatementLine(
            direction=Direction.CREDIT if signed > 0 else Direction.DEBIT, amount=amount, currency=currency,
            booking_date=booked, value_date=self.date(row, "value_date", number),
            counterparty_name=clean_text(self.cell(row, "counterparty"), 200) or None,
            counterparty_iban=iban_or_none(self.cell(row, "iban")),
            remittance=clean_text(self.cell(row, "reference")),
            bank_reference=reference_or_none(self.cell(row, "transaction_id")))

    def amount(self, text: str, where: str) -> Decimal:
        """`1.234,56`, `-1 234,56`, `1,234.56`, `1'234.56`, `1234.56-`: digits grouped any way, the mapping's
        decimal separator, a sign in front or behind."""
        decimal_mark = self.mapping.decimal_separator
        grouping = "." if decimal_mark == "," else ","
        plain = text.replace("\u00a0", "").replace(" ", "").replace("'", "").replace(grouping, "")
        if plain.endswith("-") and not plain.startswith(("-", "+")):
            plain = "-" + plain[:-1]
        plain = plain.replace(decimal_mark, ".").removeprefix("+")
        try:
            return parse_decimal(plain)
        except ValueError:
            raise StatementError(where, f"{text!r} is not an amount written with {decimal_mark!r} before the "
                                        f"decimals") from None

    def date(self, row: list[str], role: str, number: int) -> date | None:
        text = self.cell(row, role)
        if text is None:
            return None
        try:
            return datetime.strptime(text, self.mapping.date_format).date()
        except ValueError:
            raise StatementError(self.where(number, role), f"{text!r} is not a date written "
                                                           f"{self.mapping.date_format}") from None
