"""The journal for an accountant: every line of a period as CSV in our own documented layout, or as a DATEV
"EXTF" Buchungsstapel (format 700, category 21, version 13) to import into DATEV (docs/erp-ledger.md, "Journal
export"; decisions 182-184).

Both are stable: the same period exported twice is the same bytes. The CSV holds no time of its own; DATEV's
header wants a creation time, which is the latest `created_at` of the entries exported (the end of `date_to` when
there are none), not the clock.

DATEV books one amount between two accounts per row (Konto against Gegenkonto); our entries have any number of
lines. An entry with one line on one side is split the DATEV way: each line of the other side against that one
line (an invoice: each revenue and VAT line against receivables), so the rows still read like the entry. An
entry with several lines on both sides (a bill with reverse charge) books each line against a clearing account
(`clearing_account`, default the chart's suspense account 1900), which nets to zero within each entry."""

import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Literal

from erp.ledger.chart import AccountRole, account_id
from erp.ledger.repository import LedgerRepository, ReportRepository
from erp.ledger.service.statements import check_range, report_currency
from throughline_events.money import ZERO, round_money
from throughline_messaging.uow import UnitOfWork
from throughline_platform.csv_safety import csv_writer, neutralise
from throughline_platform.problems import Unprocessable

Format = Literal["csv", "datev"]

CSV_COLUMNS = ("entry_number", "entry_date", "fact_date", "source_type", "source_id", "kind", "line",
               "account_code", "account_name", "currency", "debit", "credit", "tax_rate", "tax_category",
               "client_id", "project_id", "cost_center_id", "description", "memo")

# The first 14 fields of DATEV's Buchungsstapel, in their positions (DATEV reads the fields by position; the 100 and
# more after Buchungstext are optional and not written).
DATEV_COLUMNS = ("Umsatz (ohne Soll/Haben-Kz)", "Soll/Haben-Kennzeichen", "WKZ Umsatz", "Kurs", "Basis-Umsatz",
                 "WKZ Basis-Umsatz", "Konto", "Gegenkonto (ohne BU-Schlüssel)", "BU-Schlüssel", "Belegdatum",
                 "Belegfeld 1", "Belegfeld 2", "Skonto", "Buchungstext")
DATEV_TEXT_LIMIT = 60  # Buchungstext
DATEV_LABEL = "Throughline journal"  # the header's Bezeichnung (at most 30 characters)


@dataclass(frozen=True)
class DatevOptions:
    consultant_number: int  # Beraternummer, 1001-9999999
    client_number: int  # Mandantennummer, 1-99999
    fiscal_year_start: int  # the month the fiscal year starts (1: January)
    account_length: int | None  # Sachkontenlänge, 4-8; None: the longest account number exported (at least 4)
    clearing_account: str | None  # None: the suspense account's code


@dataclass(frozen=True)
class Export:
    content: bytes
    filename: str
    media_type: str


def _range(date_from: date | None, date_to: date | None, fiscal_year_start: int) -> tuple[date, date]:
    """The range asked for; without a start, from the start of `date_to`'s fiscal year."""
    until = check_range(date_from, date_to)
    return date_from or _fiscal_year_start(until, fiscal_year_start), until


def _rate(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


async def journal_export(uow: UnitOfWork, *, fmt: Format, date_from: date | None, date_to: date | None,
                         currency: str | None, datev: DatevOptions) -> Export:
    since, until = _range(date_from, date_to, datev.fiscal_year_start)
    accounts = {a.id: a for a in await LedgerRepository(uow.session).all_accounts()}
    if fmt == "csv":
        lines = await ReportRepository(uow.session).journal_lines(date_from=since, date_to=until, currency=currency)
        return Export(_csv(lines, accounts).encode("utf-8"), f"journal_{since}_{until}.csv",
                      "text/csv; charset=utf-8")
    cur = await report_currency(uow, currency)
    start = _fiscal_year_start(since, datev.fiscal_year_start)
    if until >= date(start.year + 1, start.month, 1):
        raise Unprocessable(f"A DATEV batch lies within one fiscal year: {since} to {until} crosses the start of the "
                            f"fiscal year on {date(start.year + 1, start.month, 1)}.",
                            type_slug="datev-fiscal-year", field="date_to")
    lines = await ReportRepository(uow.session).journal_lines(date_from=since, date_to=until, currency=cur)
    clearing = datev.clearing_account or accounts[account_id(AccountRole.SUSPENSE)].code
    codes = {a.id: a.code for a in accounts.values()}
    used = {codes[ln["account_id"]] for ln in lines} | {clearing}
    if datev.account_length is None:
        # DATEV must be set to the chart's number length; a chart with longer numbers than SKR's 4 digits is
        # exported at its own length rather than refused (an explicit length is checked as given).
        datev = replace(datev, account_length=min(8, max([4] + [len(c) for c in used if c.isdigit()])))
    assert datev.account_length is not None
    _check_codes(used, datev.account_length)
    created = max((ln["created_at"] for ln in lines),
                  default=datetime.combine(until, time.max, tzinfo=UTC)).astimezone(UTC)
    text = _datev(lines, codes, clearing, cur, since, until, start, created, datev)
    return Export(text.encode("cp1252", errors="replace"), f"EXTF_Buchungsstapel_{since}_{until}.csv",
                  "text/csv; charset=windows-1252")


def _csv(lines: Sequence[dict[str, Any]], accounts: dict[Any, Any]) -> str:
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(CSV_COLUMNS)
    for ln in lines:
        account, cur = accounts[ln["account_id"]], ln["currency"]
        writer.writerow([ln["number"], ln["entry_date"], ln["fact_date"], ln["source_type"], ln["source_id"],
                         ln["kind"], ln["position"], account.code, account.name, cur,
                         round_money(ln["debit"], cur), round_money(ln["credit"], cur), _rate(ln["tax_rate"]),
                         ln["tax_category"], ln["client_id"], ln["project_id"], ln["cost_center_id"],
                         ln["description"], ln["memo"]])
    return out.getvalue()


def _fiscal_year_start(day: date, month: int) -> date:
    return date(day.year if day.month >= month else day.year - 1, month, 1)


def _check_codes(codes: set[str], length: int) -> None:
    wrong = sorted(c for c in codes if not c.isdigit() or len(c) > length)
    if wrong:
        raise Unprocessable(f"DATEV takes account numbers of at most {length} digits: {', '.join(wrong)} "
                            "cannot be exported (renumber them, or raise account_length).",
                            type_slug="datev-account-number", field="account_length")


@dataclass(frozen=True)
class _Row:
    amount: Decimal
    side: str  # S (Soll, debit) or H (Haben, credit): of Konto
    account: str
    counter: str


def datev_rows(lines: Sequence[dict[str, Any]], codes: dict[Any, str], clearing: str) -> list[tuple[int, _Row]]:
    """Each entry's lines as DATEV rows (entry number, row), per the module's rule: one line alone on its side is
    the counter account of all the lines of the other side; otherwise each line against the clearing account."""
    entries: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for ln in lines:
        entries[ln["number"]].append(ln)
    rows: list[tuple[int, _Row]] = []
    for number, entry in entries.items():
        debits = [ln for ln in entry if ln["debit"] > ZERO]
        credits = [ln for ln in entry if ln["credit"] > ZERO]
        if len(debits) == 1:
            counter = codes[debits[0]["account_id"]]
            rows += [(number, _Row(ln["credit"], "H", codes[ln["account_id"]], counter)) for ln in credits]
        elif len(credits) == 1:
            counter = codes[credits[0]["account_id"]]
            rows += [(number, _Row(ln["debit"], "S", codes[ln["account_id"]], counter)) for ln in debits]
        else:
            rows += [(number, _Row(ln["debit"] or ln["credit"], "S" if ln["debit"] > ZERO else "H",
                                   codes[ln["account_id"]], clearing)) for ln in entry]
    return rows


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _amount(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}".replace(".", ",")


def _datev(lines: Sequence[dict[str, Any]], codes: dict[Any, str], clearing: str, currency: str, since: date,
           until: date, fiscal_start: date, created: datetime, opt: DatevOptions) -> str:
    header = ['"EXTF"', "700", "21", '"Buchungsstapel"', "13",
              created.strftime("%Y%m%d%H%M%S") + f"{created.microsecond // 1000:03d}",  # Erzeugt am
              "", '"RE"', '"Throughline"', "",  # importiert, Herkunft, exportiert von, importiert von
              str(opt.consultant_number), str(opt.client_number), f"{fiscal_start:%Y%m%d}", str(opt.account_length),
              f"{since:%Y%m%d}", f"{until:%Y%m%d}", _quoted(DATEV_LABEL), '""',  # Bezeichnung, Diktatkürzel
              "1", "0", "0", _quoted(currency),  # Buchungstyp Fibu, Rechnungslegungszweck, Festschreibung, WKZ
              "", '""', "", "", '""', "", "", '""', '""']  # reserved, Derivatskennzeichen, ..., SKR, ...
    # One line of text per row: a memo's line breaks and runs of spaces become one space.
    memos = {ln["number"]: (" ".join((ln["memo"] or ln["kind"]).split()), ln["entry_date"]) for ln in lines}
    out = [";".join(header), ";".join(_quoted(c) for c in DATEV_COLUMNS)]
    for number, row in datev_rows(lines, codes, clearing):
        memo, day = memos[number]
        out.append(";".join([_amount(row.amount), _quoted(row.side), _quoted(currency), "", "", "",
                             row.account, row.counter, "", f"{day:%d%m}", _quoted(str(number)), "", "",
                             _quoted(neutralise(memo)[:DATEV_TEXT_LIMIT])]))
    return "\r\n".join(out) + "\r\n"
