"""The EN 16931 e-invoice of a document: UN/CEFACT Cross Industry Invoice XML, Factur-X profile EN 16931 (also
ZUGFeRD 2 "COMFORT"), built with lxml (every value is a text node: nothing user-typed is ever spliced into markup).

Mapping notes (the business terms are EN 16931's):
- BT-1 number, BT-2 issue date, BT-3 type code 380 (invoice) or 381 (credit note); BT-9 due date with BT-20 terms.
- Seller BG-4 and buyer BG-7 from the snapshots taken at issue. A buyer without a country (neither the client's
  `country` nor an EU VAT ID says it) is taken to be in the seller's country: the country code is mandatory
  (BR-11) and a domestic client is the common case.
- Lines BG-25: BT-146 net price is never negative (BR-27): a negative line (a time-and-materials cap
  adjustment) is a negative quantity at a positive price.
- Tax breakdown BG-23 per category code and percent, with the exemption reason (BT-120) of exempt and reverse
  charge groups, and VATEX-EU-AE (BT-121) for reverse charge.
- BT-83 remittance information: the ISO 11649 RF creditor reference. BG-16 payment means 58 (SEPA credit transfer)
  with each IBAN and BIC.
- BT-113 paid amount 0 and BT-115 amount due = the total: the document is the invoice as issued.
"""

from decimal import Decimal

from lxml import etree  # no stubs in the pinned set

from erp.documents.content import InvoiceContent, Party
from throughline_events.money import MINOR_UNITS

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NSMAP = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
EN16931_GUIDELINE = "urn:cen.eu:en16931:2017"
FILENAME = "factur-x.xml"


def _el(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    prefix, name = tag.split(":")
    element = etree.SubElement(parent, f"{{{NSMAP[prefix]}}}{name}", attributes)
    if text is not None:
        element.text = text
    return element


def _amount(value: Decimal, currency: str) -> str:
    return f"{value:.{MINOR_UNITS.get(currency, 2)}f}"


def _decimal(value: Decimal) -> str:
    """A quantity, price or percent without an exponent and without trailing zeros (at least the integer)."""
    return f"{value.normalize():f}"


def _date(parent: etree._Element, tag: str, value: str) -> None:
    _el(_el(parent, tag), "udt:DateTimeString", value, format="102")


def _party(parent: etree._Element, tag: str, party: Party, country: str) -> None:
    node = _el(parent, tag)
    _el(node, "ram:Name", party.name)
    if party.registration_number:
        _el(_el(node, "ram:SpecifiedLegalOrganization"), "ram:ID", party.registration_number)
    address = _el(node, "ram:PostalTradeAddress")
    if party.postal_code:
        _el(address, "ram:PostcodeCode", party.postal_code)
    lines = list(party.address_lines)
    if len(lines) > 3:  # EN 16931 has three address lines: the rest joins the third
        lines = [*lines[:2], ", ".join(lines[2:])]
    for tag_name, line in zip(("ram:LineOne", "ram:LineTwo", "ram:LineThree"), lines, strict=False):
        _el(address, tag_name, line)
    if party.city:
        _el(address, "ram:CityName", party.city)
    _el(address, "ram:CountryID", country)
    if party.email:
        _el(_el(node, "ram:URIUniversalCommunication"), "ram:URIID", party.email, schemeID="EM")
    if party.vat_id:
        _el(_el(node, "ram:SpecifiedTaxRegistration"), "ram:ID", party.vat_id, schemeID="VA")


def build_xml(doc: InvoiceContent) -> bytes:
    """The CII XML of an issued document (its seller is known)."""
    assert doc.seller is not None and doc.number is not None and doc.issue_date is not None
    seller_country = doc.seller.country or ""
    currency = doc.currency
    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NSMAP)
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", EN16931_GUIDELINE)

    header = _el(root, "rsm:ExchangedDocument")
    _el(header, "ram:ID", doc.number)
    _el(header, "ram:TypeCode", "381" if doc.is_credit_note else "380")
    _date(header, "ram:IssueDateTime", doc.issue_date.strftime("%Y%m%d"))
    for note in (doc.notes, doc.footer):
        if note:
            _el(_el(header, "ram:IncludedNote"), "ram:Content", note)

    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    for line in doc.lines:
        item = _el(transaction, "ram:IncludedSupplyChainTradeLineItem")
        _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(line.position))
        _el(_el(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.description)
        quantity, price = (line.quantity, line.unit_price) if line.unit_price >= 0 else (-line.quantity,
                                                                                         -line.unit_price)
        agreement = _el(item, "ram:SpecifiedLineTradeAgreement")
        _el(_el(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", _decimal(price))
        _el(_el(item, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity", _decimal(quantity),
            unitCode=line.unit_code)
        settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:TypeCode", "VAT")
        _el(tax, "ram:CategoryCode", line.category_code)
        _el(tax, "ram:RateApplicablePercent", _decimal(line.percent))
        _el(_el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation"), "ram:LineTotalAmount",
            _amount(line.net, currency))

    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    _party(agreement, "ram:SellerTradeParty", doc.seller, seller_country)
    _party(agreement, "ram:BuyerTradeParty", doc.bill_to, doc.bill_to.country or seller_country)
    _el(transaction, "ram:ApplicableHeaderTradeDelivery")  # required, may be empty: services have no delivery

    settlement = _el(transaction, "ram:ApplicableHeaderTradeSettlement")
    if doc.payment_reference:
        _el(settlement, "ram:PaymentReference", doc.payment_reference)
    _el(settlement, "ram:InvoiceCurrencyCode", currency)
    if not doc.is_credit_note:
        for account in doc.bank_accounts:
            means = _el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
            _el(means, "ram:TypeCode", "58")
            _el(_el(means, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", account.iban)
            if account.bic:
                _el(_el(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", account.bic)
    for group in doc.tax_groups:
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:CalculatedAmount", _amount(group.tax, currency))
        _el(tax, "ram:TypeCode", "VAT")
        if group.code in ("E", "AE") and group.note:
            _el(tax, "ram:ExemptionReason", group.note)
        _el(tax, "ram:BasisAmount", _amount(group.basis, currency))
        _el(tax, "ram:CategoryCode", group.code)
        if group.code == "AE":
            _el(tax, "ram:ExemptionReasonCode", "VATEX-EU-AE")
        _el(tax, "ram:RateApplicablePercent", _decimal(group.percent))
    if not doc.is_credit_note and doc.due_date is not None:
        terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
        _el(terms, "ram:Description", f"Payable within {doc.payment_terms_days} days, by {doc.due_date.isoformat()}")
        _date(terms, "ram:DueDateDateTime", doc.due_date.strftime("%Y%m%d"))
    sums = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(sums, "ram:LineTotalAmount", _amount(doc.subtotal, currency))
    _el(sums, "ram:TaxBasisTotalAmount", _amount(doc.subtotal, currency))
    _el(sums, "ram:TaxTotalAmount", _amount(doc.tax_total, currency), currencyID=currency)
    _el(sums, "ram:GrandTotalAmount", _amount(doc.total, currency))
    _el(sums, "ram:TotalPrepaidAmount", _amount(Decimal(0), currency))
    _el(sums, "ram:DuePayableAmount", _amount(doc.total, currency))
    if doc.credited_number:
        _el(_el(settlement, "ram:InvoiceReferencedDocument"), "ram:IssuerAssignedID", doc.credited_number)
    xml: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return xml
