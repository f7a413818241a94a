"""ISO 20022 CAMT.053 (bank to customer statement), versions camt.053.001.02 to .08, read into the neutral shape.

Parsed with defusedxml: no DTD (so no entity expansion, no external entity, nothing fetched from a network), on a
file the service has already limited in size. What is read, per statement (`Stmt`): the account (`Acct/Id/IBAN`,
else `Acct/Id/Othr/Id`) and currency, the opening (`OPBD`, else `PRCD`) and closing (`CLBD`) booked balances with
their dates; per booked entry (`Ntry`): amount and currency, credit or debit (`CdtDbtInd`), reversal, booking and
value dates, the bank's reference (`AcctSvcrRef`), and from its transaction details the end-to-end id, the payer
(or, on a debit, the payee) and their IBAN, the structured creditor references (`Strd/CdtrRefInf/Ref`, where an RF
reference belongs) and the free text (`Ustrd`, `AddtlTxInf`, `AddtlNtryInf`). An entry that batches several
transfers, each with its own amount, becomes one line per transfer, so each can pay its own invoice.

Where the versions differ (an entry's status is `<Sts>BOOK</Sts>` up to .06 and `<Sts><Cd>BOOK</Cd></Sts>` after;
a party is `Dbtr/Nm` up to .07 and `Dbtr/Pty/Nm` in .08; a transaction's amount is `AmtDtls/TxAmt/Amt` in .02 and
also `Amt` later), both are read. Entries that are not booked (pending, information) are left out.
"""

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml  # type: ignore[import-untyped]
from defusedxml import DefusedXmlException

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


def parse(data: bytes) -> list[ParsedStatement]:
    try:
        root = safe_xml.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except ParseError as exc:
        line, column = getattr(exc, "position", (None, None))
        where = f"line {line}, column {column}" if line else None
        raise StatementError(where, f"not well-formed XML ({_reason(exc)})") from None
    except DefusedXmlException:
        raise StatementError(None, "a statement may not declare a DTD or entities") from None
    namespace, name = _split(root.tag)
    if name != "Document" or namespace not in SUPPORTED:
        found = _MESSAGE.search(namespace)
        what = found.group(1) if found else (namespace or "no namespace")
        raise StatementError(name, f"the namespace is {what!r}: not a CAMT.053 statement of a version we read "
                                   f"(camt.053.001.02 to camt.053.001.08)")
    reader = _Reader(namespace)
    report = reader.find(root, "BkToCstmrStmt")
    if report is None:
        raise StatementError("Document", "BkToCstmrStmt is missing")
    statements = reader.all(report, "Stmt")
    if not statements:
        raise StatementError("Document/BkToCstmrStmt", "no Stmt: the file holds no statement")
    return [with_transaction_keys(reader.statement(stmt, f"Stmt[{n}]")) for n, stmt in enumerate(statements, 1)]


def _reason(exc: ParseError) -> str:
    return str(exc).split(":")[0]


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


class _Reader:
    """Paths relative to an element, in the document's namespace."""

    def __init__(self, namespace: str) -> None:
        self.ns = "{" + namespace + "}"
        self.paths: dict[str, str] = {}

    def _path(self, path: str) -> str:
        qualified = self.paths.get(path)
        if qualified is None:
            qualified = self.paths[path] = "/".join(self.ns + step for step in path.split("/"))
        return qualified

    def find(self, element: Element, path: str) -> Element | None:
        return element.find(self._path(path))

    def all(self, element: Element, path: str) -> list[Element]:
        return element.findall(self._path(path))

    def text(self, element: Element, path: str) -> str | None:
        found = self.find(element, path)
        if found is None or found.text is None:
            return None
        return found.text.strip() or None

    def texts(self, element: Element, path: str) -> list[str]:
        return [t for found in self.all(element, path) if (t := (found.text or "").strip())]

    def statement(self, stmt: Element, where: str) -> ParsedStatement:
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
        lines: list[StatementLine] = []
        for n, entry in enumerate(self.all(stmt, "Ntry"), 1):
            lines += self.entry(entry, f"{where}/Ntry[{n}]")
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
        booked = self.date(entry, "BookgDt", where) or self.date(entry, "ValDt", where)
        if booked is None:
            raise StatementError(f"{where}/BookgDt", "the booking date is missing")
        if amount == 0:
            return []
        line = StatementLine(
            direction=direction, amount=amount, currency=currency, booking_date=booked,
            value_date=self.date(entry, "ValDt", where),
            bank_reference=reference_or_none(self.text(entry, "AcctSvcrRef")),
            reversal=(self.text(entry, "RvslInd") or "").lower() == "true",
            remittance=clean_text(self.text(entry, "AddtlNtryInf")))
        details = self.all(entry, "NtryDtls/TxDtls")
        if len(details) > 1:
            split = self.batch(line, details, where)
            if split:
                return split
        return [self.details(line, details[0], f"{where}/NtryDtls/TxDtls[1]") if details else line]

    def batch(self, line: StatementLine, details: list[Element], where: str) -> list[StatementLine]:
        """One line per transfer of a batch entry, when every transfer has its amount and they add up to the
        entry's; otherwise none (the entry stays one line, for a person to split)."""
        amounts = []
        for n, tx in enumerate(details, 1):
            path = "Amt" if self.find(tx, "Amt") is not None else "AmtDtls/TxAmt/Amt"
            if self.find(tx, path) is None:
                return []
            amount, currency = self.amount(tx, path, f"{where}/NtryDtls/TxDtls[{n}]")
            if currency != line.currency:
                return []
            amounts.append(amount)
        if sum(amounts) != line.amount:
            return []
        split = []
        for n, (tx, amount) in enumerate(zip(details, amounts, strict=True), 1):
            own = reference_or_none(self.text(tx, "Refs/AcctSvcrRef"))
            reference = own or (f"{line.bank_reference}/{n}" if line.bank_reference else None)
            split.append(self.details(replace(line, amount=amount, bank_reference=reference), tx,
                                      f"{where}/NtryDtls/TxDtls[{n}]"))
        return [tx_line for tx_line in split if tx_line.amount > 0]

    def details(self, line: StatementLine, tx: Element, where: str) -> StatementLine:
        del where  # nothing in the details is required: an entry without them is still a payment
        party = "Dbtr" if line.direction is Direction.CREDIT else "Cdtr"
        name = (self.text(tx, f"RltdPties/{party}/Pty/Nm") or self.text(tx, f"RltdPties/{party}/Nm")
                or self.text(tx, f"RltdPties/Ultmt{party}/Pty/Nm") or self.text(tx, f"RltdPties/Ultmt{party}/Nm"))
        iban = self.text(tx, f"RltdPties/{party}Acct/Id/IBAN")
        text = [*self.texts(tx, "RmtInf/Ustrd"), *self.texts(tx, "AddtlTxInf")]
        if line.remittance:
            text.append(line.remittance)
        return replace(
            line, counterparty_name=clean_text(name, 200) or None, counterparty_iban=iban_or_none(iban),
            structured_references=tuple(self.texts(tx, "RmtInf/Strd/CdtrRefInf/Ref")),
            remittance=clean_text(" ".join(text)),
            bank_reference=line.bank_reference or reference_or_none(self.text(tx, "Refs/AcctSvcrRef")),
            end_to_end_id=reference_or_none(self.text(tx, "Refs/EndToEndId")))
