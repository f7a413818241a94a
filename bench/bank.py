"""Scenario 8: a bank statement import at volume (issue 22): a CAMT.053 of 10,000 credits matched against 50,000
open invoices, in one request.

The open invoices are seeded by bulk SQL (clients, issued invoices with their RF payment references). The
statement is built here: 70 % of its credits quote an invoice's RF reference, 20 % carry none but have an
invoice's exact balance and its client's name, 10 % match nothing (they wait for a person). It is posted straight
to the ERP: at about 7 MB it is larger than the gateway's request body limit (GATEWAY_MAX_BODY_BYTES, 5 MiB by
default), and the ERP is what is measured. A second import of the same file (every line a duplicate) is timed too.
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import httpx
from stdnum.iso7064 import mod_97_10

from bench.report import Row, check
from bench.system import cpu_snapshot, process_ids
from devstack.stack import Stack

SCENARIO = "9 bank import"
ACCOUNT = "DE02120300000000202051"
NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


def iban(n: int) -> str:
    """A valid (made-up) British IBAN per payer: its check digits by ISO 13616's MOD 97-10."""
    bban = f"WEST{n:014d}"
    digits = "".join(str(int(ch, 36)) for ch in bban + "GB00")
    return f"GB{98 - int(digits) % 97:02d}{bban}"


def rf_reference(number: str) -> str:
    """The invoice's ISO 11649 reference, as erp.invoices.rules.payment_reference makes it."""
    reference = "".join(ch for ch in number.upper() if ch.isalnum())
    return f"RF{mod_97_10.calc_check_digits(reference + 'RF')}{reference}"


async def seed_open_invoices(dsn: str, tag: str, count: int) -> list[tuple[str, str, Decimal, int]]:
    """`count` issued invoices over count / 10 clients, every balance different; (number, reference, balance,
    client number) of each."""
    clients = max(2, count // 10)
    names = [client_name(tag, n) for n in range(clients)]
    invoices = []
    for n in range(count):
        number = f"BNK-{tag}-{n:06d}"
        invoices.append((number, rf_reference(number), Decimal(100) + Decimal(n) * Decimal("0.37"), n % clients))
    db = await asyncpg.connect(dsn)
    try:
        async with db.transaction():
            await db.execute("""
                INSERT INTO clients (id, crm_company_id, name, payment_terms_days, currency, replicated_at)
                SELECT md5($1 || ':bc:' || n)::uuid, md5($1 || ':bcc:' || n)::uuid, name, 30, 'EUR', now()
                FROM unnest($2::text[]) WITH ORDINALITY AS c(name, n)""", tag, names)
            await db.execute("""
                INSERT INTO invoices (id, kind, number, payment_reference, status, client_id, currency,
                                      payment_terms_days, issue_date, due_date, subtotal, tax_total, total,
                                      amount_paid, amount_credited, balance_due, issued_at, created_by, created_at,
                                      updated_at)
                SELECT md5($1 || ':bi:' || i)::uuid, 'invoice', number, reference, 'issued',
                       md5($1 || ':bc:' || (1 + (i - 1) % $5))::uuid, 'EUR', 30, current_date - 20,
                       current_date + 10, total, 0, total, 0, 0, total, now(), 'bench', now(), now()
                FROM unnest($2::text[], $3::text[], $4::numeric[]) WITH ORDINALITY AS x(number, reference, total, i)
                """, tag, [i[0] for i in invoices], [i[1] for i in invoices], [i[2] for i in invoices], clients)
            await db.execute("""
                INSERT INTO invoice_lines (id, invoice_id, position, kind, description, quantity, unit_price,
                                           tax_rate, net_amount, tax_amount, total_amount)
                SELECT gen_random_uuid(), md5($1 || ':bi:' || i)::uuid, 1, 'service', 'Consulting', 1, total, 0,
                       total, 0, total
                FROM unnest($2::numeric[]) WITH ORDINALITY AS x(total, i)""", tag, [i[2] for i in invoices])
        await db.execute("ANALYZE clients; ANALYZE invoices")
    finally:
        await db.close()
    return invoices


def client_name(tag: str, n: int) -> str:
    return f"Kestrel Works {tag} {n:05d}"


def statement(tag: str, invoices: list[tuple[str, str, Decimal, int]], credits: int) -> bytes:
    """A camt.053.001.08 day of `credits` entries over distinct invoices (as tests/erp_billing/fixtures shows)."""
    chosen = random.Random(tag).sample(invoices, credits)
    today = datetime.now(UTC).date().isoformat()
    entries = []
    for n, (_, reference, balance, client) in enumerate(chosen):
        kind = n % 10
        account = f"<DbtrAcct><Id><IBAN>{iban(client)}</IBAN></Id></DbtrAcct>"
        if kind < 7:  # the RF reference, structured
            payer, amount = "Accounts payable", balance
            remittance = (f"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{reference}</Ref>"
                          f"</CdtrRefInf></Strd>")
        elif kind < 9:  # no reference: the balance and the client's name
            payer, amount = client_name(tag, client).upper(), balance
            remittance = "<Ustrd>Payment for services</Ustrd>"
        else:  # nothing to match: a stranger's amount no invoice has
            payer, amount, remittance, account = f"Stranger {n}", Decimal("0.05") + n, "<Ustrd>Gift</Ustrd>", ""
        entries.append(
            f"<Ntry><Amt Ccy=\"EUR\">{amount:.2f}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"
            f"<BookgDt><Dt>{today}</Dt></BookgDt><ValDt><Dt>{today}</Dt></ValDt>"
            f"<AcctSvcrRef>{tag}-{n:06d}</AcctSvcrRef>"
            f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
            f"<NtryDtls><TxDtls><Refs><EndToEndId>E2E-{n}</EndToEndId></Refs><Amt Ccy=\"EUR\">{amount:.2f}</Amt>"
            f"<RltdPties><Dbtr><Pty><Nm>{payer}</Nm></Pty></Dbtr>{account}</RltdPties>"
            f"<RmtInf>{remittance}</RmtInf></TxDtls></NtryDtls></Ntry>\n")
    return (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"{NAMESPACE}\"><BkToCstmrStmt>"
            f"<GrpHdr><MsgId>BENCH-{tag}</MsgId><CreDtTm>{today}T06:00:00Z</CreDtTm></GrpHdr>"
            f"<Stmt><Id>BENCH-{tag}</Id><Acct><Id><IBAN>{ACCOUNT}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
            f"<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">0.00</Amt>"
            f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{today}</Dt></Dt></Bal>\n{''.join(entries)}</Stmt>"
            f"</BkToCstmrStmt></Document>\n").encode()


async def bank_import(stack: Stack, erp_url: str, token: str, dsn: str, credits: int,
                      open_invoices: int) -> list[Row]:
    """The import's wall time, and the CPU it cost the ERP API and PostgreSQL (a figure that the rest of the
    machine's load does not inflate the way it inflates the wall time)."""
    pids = {k: v for k, v in process_ids(stack).items() if k in ("erp-api", "postgres (postmaster)")}
    tag = uuid.uuid4().hex[:6].upper()
    started = time.perf_counter()
    invoices = await seed_open_invoices(dsn, tag, open_invoices)
    seeded = time.perf_counter() - started
    data = statement(tag, invoices, credits)
    rows = [Row(SCENARIO, "seeded by bulk SQL", seeded, "s",
                note=f"{open_invoices:,} open invoices over {max(2, open_invoices // 10):,} clients; a statement of "
                     f"{credits:,} credits, {len(data) / 1e6:.1f} MB")]
    async with httpx.AsyncClient(base_url=erp_url, headers={"Authorization": f"Bearer {token}"},
                                 timeout=300) as erp:
        for label, expected in (("first import", 201), ("the same file again (all duplicates)", 200)):
            before = cpu_snapshot(pids)
            started = time.perf_counter()
            reply = await erp.post("/api/erp/bank-statements", files={"file": ("bench.xml", data, "application/xml")})
            seconds = time.perf_counter() - started
            spent = {k: v - before[k] for k, v in cpu_snapshot(pids).items()}
            if reply.status_code != expected:
                rows.append(Row(SCENARIO, label, None, "s",
                                note=f"FAILED: {reply.status_code} {reply.text[:200]}"))
                continue
            counts = reply.json()
            note = (f"{counts['lines']:,} lines: {counts['matched']:,} matched, {counts['unmatched']:,} waiting, "
                    f"{counts['duplicates']:,} duplicates; {counts['payments']:,} payments recorded; CPU s: "
                    + ", ".join(f"{k.split(' ')[0]} {v:.1f}" for k, v in spent.items()))
            if label == "first import":
                rows.append(Row(SCENARIO, f"CAMT.053 of {credits:,} credits against {open_invoices:,} open invoices",
                                seconds, "s", "<= 10 s", check(seconds, "<=", 10), note=note + "; straight to the ERP"))
            else:
                rows.append(Row(SCENARIO, label, seconds, "s", note=note))
    return rows
