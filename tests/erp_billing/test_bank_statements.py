"""The statement parsers and the matching decision, pure: no database, no HTTP (erp.banking's camt053, mt940,
csv_statement, statement and matching modules)."""

import uuid
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from erp.banking import camt053, csv_statement, mt940
from erp.banking.matching import Credit, Matcher, MatchMethod, OpenInvoice, rf_references, similar_names
from erp.banking.statement import Direction, StatementError, iban_or_none, with_transaction_keys
from tests.erp_billing import bank_files

DAY = date(2026, 11, 30)
REF_A, REF_B = "RF36INV202600042", "RF18539007547034"


def v08(**overrides: object) -> bytes:
    values: dict[str, object] = dict(
        msg_id="M1", booked=DAY.isoformat(), tag="T1", closing="12345.67", amount_a="100.00", payer_a="ACME GMBH",
        iban_a="DE89 3704 0044 0532 0130 00", ref_a=REF_A, amount_b="50.00", payer_b="Beta",
        ref_b_typed=bank_files.spaced(REF_B), amount_c="10.00", payer_c="Gamma", iban_c="GB82WEST12345698765432",
        amount_d="20.00", payer_d="Delta", amount_e="30.00", payer_e="Epsilon", ref_e="no reference")
    return bank_files.fill("camt053_v08.xml", **(values | overrides))


def test_camt053_v08_reads_the_statement_its_booked_entries_and_their_details() -> None:
    [statement] = camt053.parse(v08())
    assert (statement.account, statement.currency, statement.statement_id) == ("DE02120300000000202051", "EUR",
                                                                                "STMT-T1")
    assert (statement.opening_balance, statement.closing_balance) == (Decimal("10000.00"), Decimal("12345.67"))
    assert statement.opening_date == statement.closing_date == DAY
    assert len(statement.lines) == 6  # the pending entry is no line
    first = statement.lines[0]
    assert (first.direction, first.amount, first.currency, first.booking_date) == (Direction.CREDIT,
                                                                                   Decimal("100.00"), "EUR", DAY)
    assert first.counterparty_name == "ACME GMBH" and first.counterparty_iban == "DE89370400440532013000"
    assert first.structured_references == (REF_A,) and first.end_to_end_id == "E2E-T1-A"
    assert first.bank_reference == "T1-0001" and first.transaction_key == "ref:T1-0001:2026-11-30:C100.00EUR"
    second = statement.lines[1]
    assert second.end_to_end_id is None  # NOTPROVIDED is no id
    assert bank_files.spaced(REF_B) in second.remittance
    fee = statement.lines[5]
    assert (fee.direction, fee.amount, fee.remittance) == (Direction.DEBIT, Decimal("12.50"), "Account fee")


def test_camt053_v02_splits_a_batch_entry_into_its_transfers() -> None:
    data = bank_files.fill("camt053_v02.xml", msg_id="M", booked=DAY.isoformat(), tag="B", closing="1.00",
                           total="300.50", amount_1="100.25", amount_2="200.25", payer_1="One", payer_2="Two",
                           ref_1=REF_A, ref_2=bank_files.spaced(REF_B))
    [statement] = camt053.parse(data)
    assert statement.opening_balance == Decimal("-250.00")  # PRCD, a debit balance: overdrawn
    one, two = statement.lines
    assert (one.amount, one.bank_reference, one.counterparty_name) == (Decimal("100.25"), "B-TX1", "One")
    assert (two.amount, two.bank_reference, two.counterparty_name) == (Decimal("200.25"), "B-TX2", "Two")
    assert one.counterparty_iban == "NL91ABNA0417164300" and one.booking_date == DAY  # from a DtTm
    assert rf_references([*two.structured_references, two.remittance]) == (REF_B,)


def test_a_batch_whose_transfers_do_not_add_up_stays_one_line() -> None:
    data = bank_files.fill("camt053_v02.xml", msg_id="M", booked=DAY.isoformat(), tag="B", closing="1.00",
                           total="999.99", amount_1="100.25", amount_2="200.25", payer_1="One", payer_2="Two",
                           ref_1=REF_A, ref_2=REF_B)
    [statement] = camt053.parse(data)
    [line] = statement.lines
    assert line.amount == Decimal("999.99") and line.bank_reference == "B-BATCH"


@pytest.mark.parametrize("version", range(2, 9))
def test_every_supported_camt053_version_is_read(version: int) -> None:
    data = v08().replace(b"camt.053.001.08", f"camt.053.001.{version:02d}".encode())
    assert len(camt053.parse(data)[0].lines) == 6


def test_a_later_camt053_version_is_refused_until_a_fixture_proves_it() -> None:
    with pytest.raises(StatementError, match=r"camt\.053\.001\.09"):
        camt053.parse(v08().replace(b"camt.053.001.08", b"camt.053.001.09"))


@pytest.mark.parametrize(("change", "where", "message"), [
    ((b"<CdtDbtInd>CRDT</CdtDbtInd>", b"<CdtDbtInd>CREDIT</CdtDbtInd>"), "Stmt[1]/Bal[1]/CdtDbtInd", "CRDT or DBIT"),
    ((b'<Amt Ccy="EUR">100.00</Amt>', b'<Amt Ccy="EUR">1e2</Amt>'), "Stmt[1]/Ntry[1]/Amt", "not an amount"),
    ((b'<Amt Ccy="EUR">100.00</Amt>', b'<Amt Ccy="EUR">100.001</Amt>'), "Stmt[1]/Ntry[1]/Amt", "more decimals"),
    ((b'<Amt Ccy="EUR">100.00</Amt>', b'<Amt Ccy="XXY">100.00</Amt>'), "Stmt[1]/Ntry[1]/Amt", "ISO 4217"),
    ((b"<IBAN>DE02120300000000202051</IBAN>", b""), "Stmt[1]/Acct", "the account's Id"),
])
def test_a_malformed_camt053_names_the_element(change: tuple[bytes, bytes], where: str, message: str) -> None:
    with pytest.raises(StatementError, match=message) as refused:
        camt053.parse(v08().replace(*change, 1))
    assert refused.value.where == where


def test_transaction_identity_is_stable_and_tells_identical_transfers_apart() -> None:
    [statement] = camt053.parse(v08())
    keys = [line.transaction_key for line in statement.lines]
    assert [line.transaction_key for line in camt053.parse(v08(msg_id="OTHER"))[0].lines] == keys
    assert camt053.parse(v08(msg_id="OTHER"))[0].fingerprint == statement.fingerprint
    assert camt053.parse(v08(closing="1.00"))[0].fingerprint != statement.fingerprint
    # Without the bank's reference, the content is the identity; the same transfer twice is two transfers.
    twins = tuple(replace(statement.lines[2], bank_reference=None) for _ in range(3))
    keyed = with_transaction_keys(replace(statement, lines=twins)).lines
    assert keyed[0].transaction_key.startswith("hash:")
    assert [k.transaction_key for k in keyed[1:]] == [keyed[0].transaction_key + "#2",
                                                       keyed[0].transaction_key + "#3"]


def test_mt940_keeps_each_statement_of_the_file_with_its_balances() -> None:
    data = bank_files.fill("mt940.sta", tag="X", yymmdd="261201", mmdd="1201", yymmdd_before="261130",
                           mmdd_before="1130", amount_1="1190,00", ref_1_a="RF36 INV2", ref_1_b=" 0260 0042",
                           payer_1="ACME GMBH", closing_1="2154,30", amount_2="500,00", payer_2="Beta Ltd",
                           ref_2=REF_B, closing_2="2654,30")
    first, second = mt940.parse(data)
    assert (first.statement_id, first.account, first.currency) == ("X1/00231/001", "DE02120300000000202051", "EUR")
    assert (first.opening_balance, first.closing_balance) == (Decimal("1000.00"), Decimal("2154.30"))
    assert (first.opening_date, first.closing_date) == (date(2026, 11, 30), date(2026, 11, 30))
    credit, fee = first.lines
    assert (credit.direction, credit.amount, credit.booking_date) == (Direction.CREDIT, Decimal("1190.00"),
                                                                      date(2026, 11, 30))
    assert credit.counterparty_name == "ACME GMBH" and credit.counterparty_iban == "DE89370400440532013000"
    assert credit.bank_reference == "X-B1" and rf_references([credit.remittance]) == (REF_A,)
    assert (fee.direction, fee.amount) == (Direction.DEBIT, Decimal("35.70"))
    [paid] = second.lines
    assert (paid.counterparty_name, paid.counterparty_iban) == ("Beta Ltd", "GB82WEST12345698765432")
    assert paid.remittance == REF_B and second.closing_balance == Decimal("2654.30")


@pytest.mark.parametrize(("text", "where", "message"), [
    (":20:A\n:25:DE02120300000000202051\n:60F:C261201EUR1,00\n:61:2612011201CR100,00NTRF//R\n",
     "line 1 (:20:)", "no closing balance"),
    (":20:A\n:25:DE02120300000000202051\n:61:2612011201CR100,00NTRF//R\n:62F:C261201EUR1,00\n",
     "line 3 (:61:)", "before the opening balance"),
    (":20:A\n:25:X\n:60F:C261301EUR1,00\n:62F:C261201EUR1,00\n", "line 3 (:60F:)", "not a valid"),
    (":20:A\n:25:X\n:60F:C261201EUR1,00\n:61:2612311201CR1.00,00NTRF\n:62F:C261201EUR1,00\n", "line 4 (:61:)",
     "not a valid statement line"),
    (":20:A\n:60F:C261201EUR1,00\n:62F:C261201EUR1,00\n", "line 1 (:20:)", "no account"),
])
def test_a_malformed_mt940_names_the_line(text: str, where: str, message: str) -> None:
    with pytest.raises(StatementError, match=message) as refused:
        mt940.parse(text.encode())
    assert refused.value.where == where


def test_mt940_reversals_count_the_way_the_money_went() -> None:
    text = (":20:R\n:25:DE02120300000000202051\n:60F:C261201EUR100,00\n:61:2612011201RC40,00NTRF//R1\n"
            ":61:2612011201RD25,00NTRF//R2\n:62F:C261201EUR85,00\n")
    returned, refunded = mt940.parse(text.encode())[0].lines
    assert (returned.direction, returned.reversal) == (Direction.DEBIT, True)
    assert (refunded.direction, refunded.reversal) == (Direction.CREDIT, True)


def csv_mapping(**overrides: object) -> csv_statement.CsvMapping:
    columns = csv_statement.CsvColumns(booking_date="Date", amount="Amount", counterparty="Payer",
                                       reference="Text", iban="IBAN")
    return replace(csv_statement.CsvMapping(account="DE02120300000000202051", columns=columns, currency="EUR"),
                   **overrides)  # type: ignore[arg-type]


def test_csv_amounts_in_the_ways_banks_write_them() -> None:
    data = (b"Date;Amount;Payer;Text;IBAN\n01.12.2026;1.234,56;A;x;DE89 3704 0044 0532 0130 00\n"
            b"01.12.2026;-99,90;B;y;\n01.12.2026;12,00-;C;z;not an iban\n01.12.2026;+7;D;w;\n\n")
    [statement] = csv_statement.parse(data, csv_mapping())
    assert [(x.direction, x.amount) for x in statement.lines] == [
        (Direction.CREDIT, Decimal("1234.56")), (Direction.DEBIT, Decimal("99.90")),
        (Direction.DEBIT, Decimal("12.00")), (Direction.CREDIT, Decimal("7"))]
    assert statement.lines[0].counterparty_iban == "DE89370400440532013000"
    assert statement.lines[2].counterparty_iban is None
    english = csv_statement.parse(b"Date,Amount,Payer,Text,IBAN\n2026-12-01,\"1,234.56\",A,x,\n", csv_mapping(
        delimiter=",", decimal_separator=".", date_format="%Y-%m-%d"))[0]
    assert english.lines[0].amount == Decimal("1234.56")


@pytest.mark.parametrize(("data", "where", "message"), [
    (b"Date;Amount;Payer;Text;IBAN\n32.12.2026;1,00;A;x;\n", "line 2, column 'Date'", "not a date"),
    (b"Date;Amount;Payer;Text;IBAN\n01.12.2026;1,00;A;x;\n01.12.2026;abc;B;y;\n", "line 3, column 'Amount'",
     "not an amount"),
    (b"Date;Betrag;Payer;Text;IBAN\n01.12.2026;1,00;A;x;\n", "line 1", "no column 'Amount'"),
    ("Date;Amount;Payer;Text;IBAN\n01.12.2026;1,00;Müller;x;\n".encode("latin-1"), None, "not utf-8 text"),
])
def test_a_malformed_csv_names_the_line_and_column(data: bytes, where: str | None, message: str) -> None:
    with pytest.raises(StatementError, match=message) as refused:
        csv_statement.parse(data, csv_mapping())
    assert refused.value.where == where


def test_rf_references_as_payers_type_them() -> None:
    assert rf_references([f"Invoice {REF_A}"]) == (REF_A,)
    assert rf_references(["rf36 inv2 0260 0042 thank you"]) == (REF_A,)
    assert rf_references(["SVWZ+RF36-INV-2026-00042/EREF"]) == (REF_A,)
    assert rf_references([f"Ref:{REF_A}", REF_B]) == (REF_A, REF_B)
    assert rf_references(["RF37INV202600042", "INV-2026-00042", ""]) == ()  # a wrong check digit; no RF


@pytest.mark.parametrize(("payer", "client", "same"), [
    ("ACME GMBH", "Acme GmbH", True),
    ("Müller & Söhne KG", "MUELLER SOEHNE", True),
    ("Nordlicht Studio", "Nordlicht Studio Design GmbH", True),
    ("Acme Consultng Ltd", "ACME Consulting", True),
    ("Studio 2", "Studio 3", False),
    ("Acme", "Apex Ltd", False),
    (None, "Acme", False),
])
def test_payer_names_compared_with_client_names(payer: str | None, client: str, same: bool) -> None:
    assert similar_names(payer, client) is same


def test_iban_check() -> None:
    assert iban_or_none("gb82 west 1234 5698 7654 32") == "GB82WEST12345698765432"
    assert iban_or_none("GB82WEST12345698765433") is None
    assert iban_or_none("12345678") is None


# --- matching -------------------------------------------------------------------------------------------------


def open_invoice(number: str, balance: str, client: uuid.UUID | None = None, name: str = "Acme GmbH",
                 reference: str | None = None, status: str = "issued") -> OpenInvoice:
    return OpenInvoice(id=uuid.uuid4(), number=number, client_id=client or uuid.uuid4(), client_name=name,
                       currency="EUR", balance_due=Decimal(balance), is_open=status in ("issued", "partially_paid"),
                       payment_reference=reference, status=status)


def credit(amount: str, *references: str, payer: str | None = None, iban: str | None = None,
           booked: date = DAY, reversal: bool = False) -> Credit:
    return Credit(Decimal(amount), "EUR", booked, references, payer, iban, reversal)


def test_a_reference_pays_its_invoice_up_to_the_balance_and_the_rest_waits() -> None:
    invoice = open_invoice("INV-1", "100.00", reference=REF_A)
    matcher = Matcher([invoice], {}, DAY)
    part = matcher.decide(credit("40.00", REF_A))
    assert part.method is MatchMethod.REFERENCE and part.applied == Decimal("40.00") and part.note is None
    over = matcher.decide(credit("100.00", REF_A))
    assert over.applied == Decimal("60.00") and "40.00 EUR more than the balance due of INV-1" in (over.note or "")
    again = matcher.decide(credit("10.00", REF_A))  # paid in full by now: a second payment, for a person
    assert again.allocations == () and "nothing left to pay" in (again.note or "")


def test_one_transfer_for_several_invoices_pays_them_when_it_is_their_sum() -> None:
    def two() -> list[OpenInvoice]:
        return [open_invoice("INV-A", "100.00", reference=REF_A), open_invoice("INV-B", "50.00", reference=REF_B)]

    both = Matcher(two(), {}, DAY).decide(credit("150.00", REF_A, REF_B))
    assert sorted(x.amount for x in both.allocations) == [Decimal("50.00"), Decimal("100.00")]
    short = Matcher(two(), {}, DAY).decide(credit("120.00", REF_A, REF_B))
    assert short.allocations == () and "add up to 150.00 EUR, not 120.00: split it by hand" in (short.note or "")


def test_amount_and_payer_decide_only_when_exactly_one_invoice_fits() -> None:
    acme = uuid.uuid4()

    def acme_and_zenith() -> tuple[OpenInvoice, OpenInvoice]:
        return open_invoice("INV-1", "250.00", acme, "Acme GmbH"), open_invoice("INV-2", "250.00", name="Zenith Ltd")

    mine, others = acme_and_zenith()
    by_name = Matcher([mine, others], {}, DAY).decide(credit("250.00", payer="ACME"))
    assert by_name.method is MatchMethod.AMOUNT_AND_NAME and by_name.allocations[0].invoice_id == mine.id
    nobody = Matcher(list(acme_and_zenith()), {}, DAY).decide(credit("250.00", payer="Somebody"))
    assert nobody.allocations == () and "none of a client the payer is known to be" in (nobody.note or "")
    twice = [open_invoice("INV-1", "250.00", acme, "Acme GmbH"), open_invoice("INV-3", "250.00", acme, "Acme GmbH")]
    ambiguous = Matcher(twice, {}, DAY).decide(credit("250.00", payer="Acme"))
    assert ambiguous.allocations == () and "2 open invoices of this amount fit the payer" in (ambiguous.note or "")
    iban = "DE89370400440532013000"
    mine, others = acme_and_zenith()
    by_iban = Matcher([mine, others], {iban: {acme}}, DAY).decide(credit("250.00", payer="Accounts", iban=iban))
    assert by_iban.method is MatchMethod.AMOUNT_AND_IBAN and by_iban.allocations[0].invoice_id == mine.id


def test_a_payer_matched_by_reference_is_known_by_its_iban_for_the_next_line() -> None:
    acme = uuid.uuid4()
    first = open_invoice("INV-1", "100.00", acme, reference=REF_A)
    second = open_invoice("INV-2", "75.00", acme)
    matcher = Matcher([first, second], {}, DAY)
    iban = "GB82WEST12345698765432"
    matcher.decide(credit("100.00", REF_A, payer="AP dept", iban=iban))
    assert matcher.decide(credit("75.00", payer="AP dept", iban=iban)).method is MatchMethod.AMOUNT_AND_IBAN


def test_reversals_future_days_and_other_currencies_wait_for_a_person() -> None:
    invoice = open_invoice("INV-1", "100.00", reference=REF_A)
    assert "reversal" in (Matcher([invoice], {}, DAY).decide(credit("100.00", REF_A, reversal=True)).note or "")
    future = Matcher([invoice], {}, DAY).decide(credit("100.00", REF_A, booked=DAY + timedelta(days=1)))
    assert future.allocations == () and "still to come" in (future.note or "")
    dollars = replace(credit("100.00", REF_A), currency="USD")
    assert "billed in EUR" in (Matcher([invoice], {}, DAY).decide(dollars).note or "")
