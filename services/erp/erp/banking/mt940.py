"""SWIFT MT940 (customer statement message) read into the neutral shape.

The fields are read with the `mt-940` library (PyPI `mt-940`, BSD-3-Clause, typed, maintained since 2014): its
tag patterns and its amount and date models (`:61:` entry dates across a year boundary included). This module
splits the file into tags itself, keeping each tag's line number, and hands one tag at a time to the library's
tag parser: a malformed `:61:` or balance is refused naming its line, which the library's whole-file parser does
not say, and a file of several statements (one message per day) keeps each statement's own balances, which the
whole-file parser merges into one.

Per statement (from its `:20:`): the account (`:25:`), the statement number (`:28C:`), the opening (`:60F:` or
`:60M:`) and closing (`:62F:` or `:62M:`) balances, both required as SWIFT requires them; per entry (`:61:`): value
date, booking date, credit or debit (a reversal, `RC`/`RD`, counts the way the money went), amount, and the bank's
reference (after `//`); and its details (`:86:`): free text, from which the payer's name and IBAN are taken where
the bank structures them (the German `?20`..`?33` subfields, or `/NAME/`, `/IBAN/`, `/REMI/` codes).
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from mt940 import models as swift_models
from mt940 import tags as swift_tags

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

_TAG_START = re.compile(r":(?P<tag>\d{2}[A-Z]?|NS):")
_OPENING = {"60F": swift_tags.FinalOpeningBalance(), "60M": swift_tags.IntermediateOpeningBalance()}
_CLOSING = {"62F": swift_tags.FinalClosingBalance(), "62M": swift_tags.IntermediateClosingBalance()}
_ENTRY = swift_tags.Statement()


@dataclass(frozen=True)
class _Tag:
    line: int  # where it starts, 1-based
    tag: str
    value: str

    @property
    def where(self) -> str:
        return f"line {self.line} (:{self.tag}:)"


def looks_like_mt940(data: bytes) -> bool:
    return re.search(rb"(^|[\r\n]):20:", data[:4096]) is not None


def parse(data: bytes) -> list[ParsedStatement]:
    text = _decode(data)
    blocks: list[list[_Tag]] = []
    for tag in _tags(text):
        if tag.tag == "20":
            blocks.append([])
        if blocks:
            blocks[-1].append(tag)
    if not blocks:
        raise StatementError(None, "not an MT940 statement: no :20: transaction reference")
    return [with_transaction_keys(_statement(block)) for block in blocks]


def _decode(data: bytes) -> str:
    """UTF-8 (the SWIFT character set is a subset), else Latin-1, which every byte decodes."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _tags(text: str) -> Iterator[_Tag]:
    """Each tag with the line it starts on and its value: the rest of that line and the lines up to the next tag
    (the way `:86:` and a `:61:`'s supplementary details run on). The SWIFT envelope (`{1:...}{2:...}{4:`) and the
    message ends (`-`, `-}`) are no part of any value."""
    current: _Tag | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        if line.startswith("{") or line in {"-", "-}", "}"}:
            continue
        start = _TAG_START.match(line)
        if start:
            if current is not None:
                yield current
            current = _Tag(number, start.group("tag"), line[start.end():])
        elif current is not None and line:
            current = replace(current, value=f"{current.value}\n{line}")
    if current is not None:
        yield current


@dataclass
class _Statement:
    block: list[_Tag]
    reference: str = ""
    account: str | None = None
    number: str | None = None
    opening: tuple[Decimal, str, date] | None = None
    closing: tuple[Decimal, str, date] | None = None
    lines: list[StatementLine] = field(default_factory=list)
    # The library's statement, for what its tag parsers read from it (the currency, its options).
    context: swift_models.Transactions = field(default_factory=swift_models.Transactions)


def _statement(block: list[_Tag]) -> ParsedStatement:
    s = _Statement(block)
    previous = ""
    for tag in block:
        if tag.tag == "20":
            s.reference = tag.value.strip()
        elif tag.tag == "25":
            s.account = tag.value.strip() or None
        elif tag.tag == "28C":
            s.number = tag.value.strip() or None
        elif tag.tag in _OPENING:
            s.opening = _balance(s, tag, _OPENING[tag.tag])
        elif tag.tag in _CLOSING:
            s.closing = _balance(s, tag, _CLOSING[tag.tag])
        elif tag.tag == "61":
            if s.opening is None:
                raise StatementError(tag.where, "an entry before the opening balance (:60F:)")
            entry = _entry(s, tag)
            if entry is not None:
                s.lines.append(entry)
        elif tag.tag == "86" and s.lines and previous == "61":
            s.lines[-1] = _with_details(s.lines[-1], tag.value)
        previous = tag.tag
    first = block[0]
    if s.account is None:
        raise StatementError(first.where, "the statement has no account (:25:)")
    if s.opening is None:
        raise StatementError(first.where, "the statement has no opening balance (:60F:)")
    if s.closing is None:
        raise StatementError(first.where, "the statement has no closing balance (:62F:)")
    statement_id = "/".join(part for part in (s.reference, s.number) if part) or None
    return ParsedStatement(
        format=StatementFormat.MT940, account=account_identity(s.account), currency=s.opening[1],
        statement_id=statement_id, opening_balance=s.opening[0], opening_date=s.opening[2],
        closing_balance=s.closing[0], closing_date=s.closing[2], lines=tuple(s.lines))


def _library(tag: _Tag, parser: swift_tags.Tag, context: swift_models.Transactions) -> Any:
    """The library's reading of one tag; what it cannot read is refused naming the line."""
    try:
        return parser(context, parser.parse(context, tag.value))[parser.slug]
    except (RuntimeError, ValueError, InvalidOperation, TypeError):
        raise StatementError(tag.where, f"not a valid {parser.name}: {tag.value.splitlines()[0]!r}") from None


def _balance(s: _Statement, tag: _Tag, parser: swift_tags.Tag) -> tuple[Decimal, str, date]:
    balance = _library(tag, parser, s.context)
    if tag.tag in _OPENING:
        s.context.data["final_opening_balance"] = balance  # the entries' currency, for the library
    currency = checked_currency(str(balance.amount.currency), tag.where)
    amount = balance.amount.amount
    checked_amount(abs(amount), currency, tag.where)
    return amount, currency, date(balance.date.year, balance.date.month, balance.date.day)


def _entry(s: _Statement, tag: _Tag) -> StatementLine | None:
    try:
        fields = _ENTRY.parse(s.context, tag.value)
        # The library lets a line without its transaction type pass, reading `1.00,00NTRF` as an amount of 1 and a
        # reference ".00,00NTRF". SWIFT requires the decimal comma and the type (NTRF, NMSC...): a line without
        # them is refused, not misread.
        if not fields.get("id") or "," not in (fields.get("amount") or ""):
            raise ValueError("no decimal comma or no transaction type")
        found: dict[str, Any] = _ENTRY(s.context, fields)
    except (RuntimeError, ValueError, InvalidOperation, TypeError):
        raise StatementError(tag.where, f"not a valid statement line: {tag.value.splitlines()[0]!r}") from None
    assert s.opening is not None
    currency = s.opening[1]
    mark = str(found["status"]).upper()
    direction = Direction.CREDIT if mark in {"C", "RD"} else Direction.DEBIT
    amount = checked_amount(abs(found["amount"].amount), currency, tag.where)
    if amount == 0:
        return None
    value_date: date = found["date"]
    booked: date = found.get("entry_date") or value_date
    return StatementLine(
        direction=direction, amount=amount, currency=currency,
        booking_date=date(booked.year, booked.month, booked.day),
        value_date=date(value_date.year, value_date.month, value_date.day),
        bank_reference=reference_or_none(found.get("bank_reference")),
        end_to_end_id=None, reversal=mark.startswith("R"),
        remittance=clean_text(" ".join(filter(None, [reference_or_none(found.get("customer_reference")),
                                                     found.get("extra_details")]))))


# German structured :86: (DFÜ-Abkommen): `?NN` subfields after a three-digit transaction code.
_SUBFIELD = re.compile(r"\?(\d{2})")
# Codes some banks put in :86: (`/NAME/ACME GMBH/IBAN/NL91ABNA0417164300/REMI/...`).
_SLASH_CODES = re.compile(r"/(NAME|IBAN|REMI|EREF|CNTP|ORDP|BENM|ID)/")


def _with_details(line: StatementLine, details: str) -> StatementLine:
    joined = details.replace("\n", "")
    name = iban = None
    text: str
    if re.match(r"\d{3}\?", joined):
        fields: dict[str, list[str]] = {}
        parts = _SUBFIELD.split(joined[3:])
        for code, value in zip(parts[1::2], parts[2::2], strict=False):
            fields.setdefault(code, []).append(value)
        purpose = [v for code in sorted(fields) if "20" <= code <= "29" or "60" <= code <= "63" for v in fields[code]]
        text = " ".join(purpose)
        name = "".join(fields.get("32", []) + fields.get("33", []))
        iban = "".join(fields.get("31", []))
    elif _SLASH_CODES.search(joined):
        values: dict[str, str] = {}
        parts = _SLASH_CODES.split(joined)
        for code, value in zip(parts[1::2], parts[2::2], strict=False):
            values.setdefault(code, value.strip("/ "))
        counterparty = values.get("CNTP", "").split("/")  # /CNTP/<IBAN>/<BIC>/<name>/<city>/
        name = values.get("NAME") or (counterparty[2] if len(counterparty) > 2 else None)
        iban = values.get("IBAN") or counterparty[0]
        text = values.get("REMI", "") or joined
    else:
        text = details.replace("\n", " ")
    return replace(line, counterparty_name=clean_text(name, 200) or None, counterparty_iban=iban_or_none(iban),
                   remittance=clean_text(f"{text} {line.remittance}"))
