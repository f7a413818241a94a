"""ISO 20022 CAMT.053 (bank to customer statement), versions camt.053.001.02 to .08, read into the neutral shape.

Parsed safely, on a file the service has already limited in size: a first pass of the expat parser, with nothing
but a handler that refuses a document type declaration, makes sure there is no DTD, hence no entity to expand (no
"billion laughs"), no external entity and nothing to fetch from a network; then the standard library's C
ElementTree reads it (`iterparse`, an entry at a time). This is what defusedxml's `forbid_dtd` does, without its tree
built in Python callbacks, which took longer than all the rest of the parsing.

What is read, per statement (`Stmt`): the account (`Acct/Id/IBAN`, else `Acct/Id/Othr/Id`) and currency, the opening
(`OPBD`, else `PRCD`) and closing (`CLBD`) booked balances with their dates; per booked entry (`Ntry`): amount and
currency, credit or debit (`CdtDbtInd`), reversal, booking and value dates, the bank's reference (`AcctSvcrRef`),
and from its transaction details the end-to-end id, the payer (or, on a debit, the payee) and their IBAN, the
structured creditor references (`Strd/CdtrRefInf/Ref`, where an RF reference belongs) and the free text (`Ustrd`,
`AddtlTxInf`, `AddtlNtryInf`). An entry that batches several transfers, each with its own amount, becomes one line
per transfer, so each can pay its own invoice.

Where the versions differ (an entry's status is `<Sts>BOOK</Sts>` up to .06 and `<Sts><Cd>BOOK</Cd></Sts>` after;
a party is `Dbtr/Nm` up to .07 and `Dbtr/Pty/Nm` in .08; a transaction's amount is `AmtDtls/TxAmt/Amt` in .02 and
also `Amt` later), both are read. Entries that are not booked (pending, information) are left out.
"""

import io
import re
from datetime import date
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import Element, ParseError, iterparse
from xml.parsers import expat

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

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.{:02d}"
SUPPORTED = {NAMESPACE.format(version): version for version in range(2, 9)}
_MESSAGE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:([a-z]+\.\d{3}\.\d{3}\.\d{2})")


def looks_like_camt(data: bytes) -> bool:
    """An XML document (the format is told by its first bytes; the namespace is checked when parsing)."""
    return data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


class _DocumentTypeDeclared(Exception):
    pass


def _refuse_document_type(*_: object) -> None:
    raise _DocumentTypeDeclared


def _without_dtd(data: bytes) -> None:
    """Refuse a document that declares a document type (a DTD, where entities are declared); a malformed one
    is refused naming its line and column."""
    guard = expat.ParserCreate()
    guard.StartDoctypeDeclHandler = _refuse_document_type
    guard.EntityDeclHandler = _refuse_document_type
    try:
        guard.Parse(data, True)
    except _DocumentTypeDeclared:
        raise StatementError(None, "a statement may not declare a DTD or entities") from None
    except expat.ExpatError as exc:
        raise StatementError(f"line {exc.lineno}, column {exc.offset}",
                             f"not well-formed XML ({expat.ErrorString(exc.code)})") from None


def parse(data: bytes) -> list[ParsedStatement]:
    """Entry by entry as the document is read, each entry's elements dropped once it is read: the tree of a day
    of 10,000 entries would otherwise hold some 60 MB."""
    _without_dtd(data)
    reader: _Reader | None = None
    statements: list[ParsedStatement] = []
    lines: list[StatementLine] = []
    seen_report = False
    stmt = entries = 0
    try:
        # No DTD (checked above): nothing to expand or fetch.
        for event, element in iterparse(io.BytesIO(data), events=("start", "end")):  # noqa: S314
            if reader is None:  # the document's root, at its start
                reader = _Reader(_statement_namespace(element))
            elif event == "start":
                if element.tag == reader.stmt_tag:
                    stmt, entries, lines = stmt + 1, 0, []
                seen_report = seen_report or element.tag == reader.report_tag
            elif element.tag == reader.entry_tag:
                entries += 1
                lines += reader.entry(element, f"Stmt[{stmt}]/Ntry[{entries}]")
                element.clear()
            elif element.tag == reader.stmt_tag:
                statements.append(with_transaction_keys(reader.statement(element, f"Stmt[{stmt}]", lines)))
                element.clear()
    except ParseError as exc:  # the guard read it already; kept so that no parser error escapes as a 500
        raise StatementError(None, f"not well-formed XML ({exc})") from None
    if not seen_report:
        raise StatementError("Document", "BkToCstmrStmt is missing")
    if not statements:
        raise StatementError("Document/BkToCstmrStmt", "no Stmt: the file holds no statement")
    return statements


def _statement_namespace(root: Element) -> str:
    namespace, name = _split(root.tag)
    if name != "Document" or namespace not in SUPPORTED:
        found = _MESSAGE.search(namespace)
        what = found.group(1) if found else (namespace or "no namespace")
        raise StatementError(name, f"the namespace is {what!r}: not a CAMT.053 statement of a version we read "
                                   f"(camt.053.001.02 to camt.053.001.08)")
    return namespace


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


class _Reader:
    """Paths relative to an element, in the document's namespace."""

    def __init__(self, namespace: str) -> None:
        self.ns = "{" + namespace + "}"
        self.paths: dict[str, tuple[str, ...]] = {}
        self.report_tag, self.stmt_tag, self.entry_tag = (self.ns + t for t in ("BkToCstmrStmt", "Stmt", "Ntry"))

    def _steps(self, path: str) -> tuple[str, ...]:
        steps = self.paths.get(path)
        if steps is None:
            steps = self.paths[path] = tuple(self.ns + step for step in path.split("/"))
        return steps

    def find(self, element: Element, path: str) -> Element | None:
        """One step at a time: a single qualified tag is found by C code; a path would go through ElementPath,
        in Python, three times slower."""
        found = element
        for step in self._steps(path):
            child = found.find(step)
            if child is None:
                return None
            found = child
        return found

    def all(self, element: Element, path: str) -> list[Element]:
        *parents, last = self._steps(path)
        elements = [element]
        for step in parents:
            elements = [child for e in elements for child in e.findall(step)]
        return [child for e in elements for child in e.findall(last)]

    def text(self, element: Element, path: str) -> str | None:
        found = self.find(element, path)
        if found is None or found.text is None:
            return None
        return found.text.strip() or None

    def texts(self, element: Element, path: str) -> list[str]:
        return [t for found in self.all(element, path) if (t := (found.text or "").strip())]

    def statement(self, stmt: Element, where: str, lines: list[StatementLine]) -> ParsedStatement:
        account = self.text(stmt, "Acct/Id/IBAN") or self.text(stmt, "Acct/Id/Othr/Id")
        if account is None:
            raise StatementError(f"{where}/Acct", "the account's Id (IBAN or Othr/Id) is missing")
        opening = closing = None
        for n, balance in enumerate(self.all(stmt, "Bal"), 1):
            code = self.text(balance, "Tp/CdOrPrtry/Cd")
            if code in {"OPBD", "PRCD"} and (opening is None or code == "OPBD"):
                opening = self.balance(balance, f"{where}/Bal[{n}]")
            elif code == "CLBD":
                closing = self.balance(balance, f"{where}/Bal[{n}]")
        given = [self.text(stmt, "Acct/Ccy"), *(b[1] for b in (opening, closing) if b), *(x.currency for x in lines)]
        currency = next((c for c in given if c), None)
        if currency is None:
            raise StatementError(f"{where}/Acct/Ccy", "the account's currency is missing (and no balance or entry "
                                                      "gives one)")
        return ParsedStatement(
            format=StatementFormat.CAMT053, account=account_identity(account),
            currency=checked_currency(currency, f"{where}/Acct/Ccy"), statement_id=self.text(stmt, "Id"),
            opening_balance=opening[0] if opening else None, opening_date=opening[2] if opening else None,
            closing_balance=closing[0] if closing else None, closing_date=closing[2] if closing else None,
            lines=tuple(lines))

    def balance(self, balance: Element, where: str) -> tuple[Decimal, str, date]:
        amount, currency = self.amount(balance, "Amt", where)
        sign = self.text(balance, "CdtDbtInd")
        if sign not in {"CRDT", "DBIT"}:
            raise StatementError(f"{where}/CdtDbtInd", f"must be CRDT or DBIT, not {sign!r}")
        on = self.date(balance, "Dt", where)
        if on is None:
            raise StatementError(f"{where}/Dt", "the balance's date is missing")
        return (-amount if sign == "DBIT" else amount), currency, on

    def amount(self, element: Element, path: str, where: str) -> tuple[Decimal, str]:
        found = self.find(element, path)
        if found is None:
            raise StatementError(f"{where}/{path}", "the amount is missing")
        currency = found.get("Ccy")
        if not currency:
            raise StatementError(f"{where}/{path}", "the amount's currency (attribute Ccy) is missing")
        currency = checked_currency(currency, f"{where}/{path}")
        try:
            value = parse_decimal((found.text or "").strip())
        except ValueError:
            raise StatementError(f"{where}/{path}", f"{found.text!r} is not an amount") from None
        return checked_amount(value, currency, f"{where}/{path}"), currency

    def date(self, element: Element, path: str, where: str) -> date | None:
        """`<path><Dt>2026-12-01</Dt></path>` or `<path><DtTm>2026-12-01T09:30:00+01:00</DtTm></path>`: the day."""
        text = self.text(element, f"{path}/Dt") or self.text(element, f"{path}/DtTm")
        if text is None:
            return None
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            raise StatementError(f"{where}/{path}", f"{text!r} is not a date") from None

    def entry(self, entry: Element, where: str) -> list[StatementLine]:
        status = self.text(entry, "Sts/Cd") or self.text(entry, "Sts")
        if status is not None and status != "BOOK":
            return []  # pending or for information: not on the account yet
        amount, currency = self.amount(entry, "Amt", where)
        sign = self.text(entry, "CdtDbtInd")
        if sign not in {"CRDT", "DBIT"}:
            raise StatementError(f"{where}/CdtDbtInd", f"must be CRDT or DBIT, not {sign!r}")
        direction = Direction.CREDIT if sign == "CRDT" else Direction.DEBIT
        value_date = self.date(entry, "ValDt", where)
        booked = self.date(entry, "BookgDt", where) or value_date
        if booked is None:
            raise StatementError(f"{where}/BookgDt", "the booking date is missing")
        if amount == 0:
            return []
        # The line's fields, completed from its transaction details: built once (dataclass `replace` per field
        # cost more than reading the XML).
        line: dict[str, Any] = {
            "direction": direction, "amount": amount, "currency": currency, "booking_date": booked,
            "value_date": value_date, "bank_reference": reference_or_none(self.text(entry, "AcctSvcrRef")),
            "reversal": (self.text(entry, "RvslInd") or "").lower() == "true",
            "remittance": clean_text(self.text(entry, "AddtlNtryInf"))}
        details = self.all(entry, "NtryDtls/TxDtls")
        if len(details) > 1:
            split = self.batch(line, details, where)
            if split:
                return split
        return [StatementLine(**self.details(line, details[0]) if details else line)]

    def batch(self, line: dict[str, Any], details: list[Element], where: str) -> list[StatementLine]:
        """One line per transfer of a batch entry, when every transfer has its amount and they add up to the
        entry's; otherwise none (the entry stays one line, for a person to split)."""
        amounts = []
        for n, tx in enumerate(details, 1):
            path = "Amt" if self.find(tx, "Amt") is not None else "AmtDtls/TxAmt/Amt"
            if self.find(tx, path) is None:
                return []
            amount, currency = self.amount(tx, path, f"{where}/NtryDtls/TxDtls[{n}]")
            if currency != line["currency"]:
                return []
            amounts.append(amount)
        if sum(amounts) != line["amount"]:
            return []
        split = []
        for n, (tx, amount) in enumerate(zip(details, amounts, strict=True), 1):
            if amount == 0:
                continue
            own = reference_or_none(self.text(tx, "Refs/AcctSvcrRef"))
            entry_reference = line["bank_reference"]
            reference = own or (f"{entry_reference}/{n}" if entry_reference else None)
            split.append(StatementLine(**self.details(line | {"amount": amount, "bank_reference": reference}, tx)))
        return split

    def details(self, line: dict[str, Any], tx: Element) -> dict[str, Any]:
        """The line's fields with its transaction's details: nothing in them is required (an entry without them
        is still a payment)."""
        party = "Dbtr" if line["direction"] is Direction.CREDIT else "Cdtr"
        name = (self.text(tx, f"RltdPties/{party}/Pty/Nm") or self.text(tx, f"RltdPties/{party}/Nm")
                or self.text(tx, f"RltdPties/Ultmt{party}/Pty/Nm") or self.text(tx, f"RltdPties/Ultmt{party}/Nm"))
        text = [*self.texts(tx, "RmtInf/Ustrd"), *self.texts(tx, "AddtlTxInf")]
        if line["remittance"]:
            text.append(line["remittance"])
        return line | {
            "counterparty_name": clean_text(name, 200) or None,
            "counterparty_iban": iban_or_none(self.text(tx, f"RltdPties/{party}Acct/Id/IBAN")),
            "structured_references": tuple(self.texts(tx, "RmtInf/Strd/CdtrRefInf/Ref")),
            "remittance": clean_text(" ".join(text)),
            "bank_reference": line["bank_reference"] or reference_or_none(self.text(tx, "Refs/AcctSvcrRef")),
            "end_to_end_id": reference_or_none(self.text(tx, "Refs/EndToEndId"))}
