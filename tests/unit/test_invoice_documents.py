"""The rules of invoices a client can receive, without a database: tax per rate, the reverse-charge proposal, the
checks of VAT IDs, IBANs and countries, the SEPA payment code, the e-invoice XML (checked against the Factur-X
EN 16931 XSD by the factur-x package) and the document's formatting."""

import random
import uuid
from datetime import date
from decimal import Decimal

import facturx
import pytest
from lxml import etree

from erp.company.rules import check_bic, check_country, check_iban, check_vat_id, vat_prefix_country
from erp.documents.content import BankAccount, InvoiceContent, Line, Party, TaxGroup, format_date, format_money
from erp.documents.e_invoice import build_xml
from erp.documents.payment_code import epc_payload, payable_by_code
from erp.documents.render import render_html
from erp.invoices.rules import TaxedLine, line_taxes, tax_breakdown
from erp.taxes.rules import proposes_reverse_charge, rate_problem, vat_country
from throughline_events.money import quantum, round_money

NS = {"ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}


def test_tax_is_computed_per_rate_and_shared_out_to_the_lines() -> None:
    lines = [TaxedLine(Decimal("0.33"), "S", Decimal(19)) for _ in range(3)] + [TaxedLine(Decimal(10), "S", Decimal(7))]
    shares = line_taxes(lines, "EUR")
    assert shares == [Decimal("0.06"), Decimal("0.07"), Decimal("0.06"), Decimal("0.70")]
    groups = tax_breakdown(lines, shares)
    assert [(g.code, g.percent, g.basis, g.tax) for g in groups] == [
        ("S", Decimal(19), Decimal("0.99"), Decimal("0.19")), ("S", Decimal(7), Decimal(10), Decimal("0.70"))]


def test_each_rates_tax_is_its_basis_times_its_percent_rounded_once() -> None:
    """EN 16931 BR-CO-17, for any lines (negative ones too: a cap adjustment), in any currency."""
    chance = random.Random(22)
    for currency in ("EUR", "JPY", "KWD"):
        for _ in range(300):
            lines = [TaxedLine(round_money(Decimal(chance.randint(-5000, 90000)) / 97, currency),
                               chance.choice(["S", "Z"]), chance.choice([Decimal(19), Decimal(7), Decimal("5.5")]))
                     for _ in range(chance.randint(1, 8))]
            shares = line_taxes(lines, currency)
            for group in tax_breakdown(lines, shares):
                assert group.tax == round_money(group.basis * group.percent / 100, currency)
            # No line's share is off its own exact tax by more than one minor unit.
            assert all(abs(s - line.net * line.percent / 100) <= quantum(currency)
                       for s, line in zip(shares, lines, strict=True))


def test_reverse_charge_is_proposed_across_an_eu_border_only() -> None:
    assert proposes_reverse_charge("DE", "FR40303265045")
    assert proposes_reverse_charge("AT", "EL094259216")  # Greece's VAT prefix is EL
    assert not proposes_reverse_charge("FR", "FR40303265045")  # same country
    assert not proposes_reverse_charge("DE", "FR40303265046")  # not a valid VAT ID
    assert not proposes_reverse_charge("DE", None)  # a consumer
    assert not proposes_reverse_charge("GB", "FR40303265045")  # we are not in the EU
    assert not proposes_reverse_charge(None, "FR40303265045")  # no company profile yet
    assert vat_country("EL094259216") == "GR"


def test_a_rates_percent_and_note_follow_its_category() -> None:
    assert rate_problem("standard", Decimal(19), None) is None
    assert rate_problem("standard", Decimal(0), None) == ("percent", "a standard rate is more than 0 %")
    assert rate_problem("zero", Decimal(5), None)[0] == "percent"  # type: ignore[index]
    assert rate_problem("reverse_charge", Decimal(0), "  ")[0] == "legal_note"  # type: ignore[index]
    assert rate_problem("exempt", Decimal(0), "§ 4 Nr. 21 UStG") is None


def test_vat_ids_ibans_bics_and_countries_are_checked() -> None:
    assert check_vat_id("DE 136 695 976") == "DE136695976"
    assert vat_prefix_country(check_vat_id("EL094259216")) == "GR"
    assert check_vat_id("CHE-116.281.710 MWST") == "CHE116281710MWST"
    for bad in ("DE136695977", "US123456789", "136695976", ""):
        with pytest.raises(ValueError):
            check_vat_id(bad)
    assert check_iban("de89 3704 0044 0532 0130 00") == "DE89370400440532013000"
    with pytest.raises(ValueError, match="not a valid IBAN"):
        check_iban("DE89 3704 0044 0532 0130 01")
    assert check_bic("cobadeffxxx") == "COBADEFFXXX"
    with pytest.raises(ValueError, match="not a valid BIC"):
        check_bic("COBAXXFF")
    assert check_country("de") == "DE"
    with pytest.raises(ValueError, match="ISO 3166"):
        check_country("XX")


def test_the_sepa_payment_code_carries_the_rf_reference_as_structured_remittance() -> None:
    payload = epc_payload(name="Lumen Studio GmbH", iban="DE89370400440532013000", bic="COBADEFFXXX",
                          amount=Decimal("1749.00"), reference="RF76INV202600001")
    assert payload.split("\n") == ["BCD", "002", "1", "SCT", "COBADEFFXXX", "Lumen Studio GmbH",
                                   "DE89370400440532013000", "EUR1749.00", "", "RF76INV202600001"]
    assert payable_by_code("EUR", Decimal("0.01")) and not payable_by_code("USD", Decimal(10))
    assert not payable_by_code("EUR", Decimal("1000000000.00"))


def document(**changes: object) -> InvoiceContent:
    seller = Party("Lumen <Studio> & Co", ("Torstraße 12",), "10119", "Berlin", "DE", "DE136695976", "HRB 1")
    buyer = Party("Käufer AG", ("Musterweg 5",), None, None, "FR", "FR40303265045")
    values: dict[str, object] = dict(
        invoice_id=uuid.uuid4(), revision=1, is_credit_note=False, is_draft=False, number="INV-2026-00042",
        issue_date=date(2026, 12, 7), due_date=date(2026, 12, 21), payment_terms_days=14, currency="EUR",
        seller=seller, bank_accounts=(BankAccount("DE89370400440532013000", None, None),), logo_sha256=None,
        bill_to=buyer,
        lines=(Line(1, "Build", Decimal("10"), "HUR", Decimal("100.00"), Decimal(0), "AE", Decimal("1000.00")),
               Line(2, "Cap reached", Decimal(1), "C62", Decimal("-200.00"), Decimal(0), "AE", Decimal("-200.00"))),
        tax_groups=(TaxGroup("AE", Decimal(0), Decimal("800.00"), Decimal("0.00"), "Reverse charge"),),
        subtotal=Decimal("800.00"), tax_total=Decimal("0.00"), total=Decimal("800.00"),
        payment_reference="RF18INV202600042", credited_number=None, notes="Thanks <b>", footer=None, language="en")
    values.update(changes)
    return InvoiceContent(**values)  # type: ignore[arg-type]


def test_the_e_invoice_xml_is_valid_and_escapes_what_people_typed() -> None:
    xml = build_xml(document())
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    root = etree.fromstring(xml)
    assert root.findtext(".//ram:SellerTradeParty/ram:Name", namespaces=NS) == "Lumen <Studio> & Co"
    assert b"Lumen &lt;Studio&gt; &amp; Co" in xml
    quantities = root.xpath(".//ram:BilledQuantity/text()", namespaces=NS)
    prices = root.xpath(".//ram:NetPriceProductTradePrice/ram:ChargeAmount/text()", namespaces=NS)
    assert (quantities, prices) == (["10", "-1"], ["100", "200"])  # no negative price (BR-27)
    assert root.findtext(".//ram:ExemptionReasonCode", namespaces=NS) == "VATEX-EU-AE"
    credit = build_xml(document(is_credit_note=True, number="CN-2026-00001", credited_number="INV-2026-00042",
                                payment_reference=None))
    assert facturx.xml_check_xsd(credit, flavor="factur-x", level="en16931") is True
    credit_root = etree.fromstring(credit)
    assert credit_root.findtext(".//ram:TypeCode", namespaces=NS) == "381"
    assert credit_root.find(".//ram:SpecifiedTradeSettlementPaymentMeans", NS) is None  # nothing to pay


def test_the_html_escapes_user_text_and_shows_the_payment_code_for_euro_only() -> None:
    html = render_html(document(), None)
    assert "Lumen &lt;Studio&gt; &amp; Co" in html and "Thanks &lt;b&gt;" in html and "<b>" not in html
    assert 'class="payment-code"' in html and "RF18INV202600042" in html
    assert 'class="payment-code"' not in render_html(document(currency="USD"), None)
    assert 'class="payment-code"' not in render_html(document(is_draft=True, number=None), None)


def test_amounts_and_dates_in_the_invoice_language() -> None:
    amount = Decimal("1234567.5")
    assert format_money(amount, "EUR", "en") == "1,234,567.50 EUR"
    assert format_money(amount, "EUR", "de") == "1.234.567,50 EUR"
    assert format_money(amount, "EUR", "fr") == "1\u202f234\u202f567,50 EUR"
    assert format_money(Decimal(1000), "JPY", "en") == "1,000 JPY"
    assert (format_date(date(2026, 12, 7), "en"), format_date(date(2026, 12, 7), "de")) == ("7 Dec 2026", "07.12.2026")
