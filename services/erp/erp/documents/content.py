"""What a printed invoice or credit note says, as plain frozen data: built from the invoice and its snapshots in
the request's transaction, then rendered (HTML, PDF, e-invoice XML) without touching the database or the ORM, so
rendering can run in a worker thread.

Everything comes from what the invoice keeps: its lines (with the tax they were written with), its totals, and
the seller and bill-to snapshots taken at issue. A draft, which has no snapshots yet, shows the company profile
and the client as they are now, and is marked DRAFT. The document shows the invoice as issued: the amount due is
its total; payments and credits are the ledger's (the web app, GET /api/erp/invoices/{id}), not the document's.
"""

import base64
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pycountry

from erp.invoices.api import Invoice, InvoiceKind, InvoiceStatus, LineKind, TaxedLine, tax_breakdown
from erp.taxes.api import EN16931_CODE
from throughline_events.money import MINOR_UNITS, round_money


@dataclass(frozen=True)
class Party:
    name: str
    address_lines: tuple[str, ...]
    postal_code: str | None
    city: str | None
    country: str | None
    vat_id: str | None
    registration_number: str | None = None
    email: str | None = None
    phone: str | None = None
    website: str | None = None

    @property
    def city_line(self) -> str:
        return " ".join(part for part in (self.postal_code, self.city) if part)


@dataclass(frozen=True)
class BankAccount:
    iban: str
    bic: str | None
    bank_name: str | None

    @property
    def iban_grouped(self) -> str:
        return " ".join(self.iban[i:i + 4] for i in range(0, len(self.iban), 4))


@dataclass(frozen=True)
class Line:
    position: int
    description: str
    quantity: Decimal
    unit_code: str  # UN/ECE Rec 20: HUR (hour) for time, C62 (one) otherwise
    unit_price: Decimal
    percent: Decimal
    category_code: str
    net: Decimal


@dataclass(frozen=True)
class TaxGroup:
    code: str
    percent: Decimal
    basis: Decimal
    tax: Decimal
    note: str | None


@dataclass(frozen=True)
class Logo:
    data: bytes
    media_type: str

    @property
    def data_uri(self) -> str:
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode('ascii')}"


@dataclass(frozen=True)
class InvoiceContent:
    invoice_id: uuid.UUID
    revision: int
    is_credit_note: bool
    is_draft: bool
    number: str | None
    issue_date: date | None
    due_date: date | None
    payment_terms_days: int
    currency: str
    seller: Party | None  # None: issued before the company profile was set up
    bank_accounts: tuple[BankAccount, ...]
    logo_sha256: str | None
    bill_to: Party
    lines: tuple[Line, ...]
    tax_groups: tuple[TaxGroup, ...]
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    payment_reference: str | None
    credited_number: str | None
    notes: str | None
    footer: str | None
    language: str

    @property
    def amount_due(self) -> Decimal:
        """What the document asks to be paid: its total (nothing for a credit note)."""
        return Decimal(0) if self.is_credit_note else self.total

    @property
    def is_e_invoice(self) -> bool:
        """An issued document with a seller carries the EN 16931 XML; a draft, or an invoice issued before the
        company profile existed, is a plain PDF/A."""
        return not self.is_draft and self.seller is not None


def _party(snapshot: dict[str, Any]) -> Party:
    return Party(
        name=snapshot.get("legal_name") or snapshot.get("name") or "",
        address_lines=tuple(snapshot.get("address_lines") or ()), postal_code=snapshot.get("postal_code"),
        city=snapshot.get("city"), country=snapshot.get("country"), vat_id=snapshot.get("vat_id"),
        registration_number=snapshot.get("registration_number"), email=snapshot.get("email"),
        phone=snapshot.get("phone"), website=snapshot.get("website"))


def content_of(invoice: Invoice, *, seller: dict[str, Any] | None, bill_to: dict[str, Any],
               credited_number: str | None) -> InvoiceContent:
    """The document of `invoice`. `seller` and `bill_to` are its snapshots once issued (the caller passes the live
    profile and client for a draft)."""
    currency = invoice.currency
    lines = tuple(Line(
        position=line.position, description=line.description, quantity=Decimal(line.quantity),
        unit_code="HUR" if line.kind == LineKind.TIME else "C62", unit_price=Decimal(line.unit_price),
        percent=Decimal(line.tax_rate), category_code=EN16931_CODE.get(line.tax_category, "S"),
        net=round_money(Decimal(line.net_amount), currency)) for line in invoice.lines)
    groups = tax_breakdown([TaxedLine(Decimal(line.net_amount), EN16931_CODE.get(line.tax_category, "S"),
                                      Decimal(line.tax_rate), line.tax_note)
                            for line in invoice.lines], [Decimal(line.tax_amount) for line in invoice.lines])
    return InvoiceContent(
        invoice_id=invoice.id, revision=invoice.document_revision or 1,
        is_credit_note=invoice.kind == InvoiceKind.CREDIT_NOTE, is_draft=invoice.status == InvoiceStatus.DRAFT,
        number=invoice.number, issue_date=invoice.issue_date, due_date=invoice.due_date,
        payment_terms_days=invoice.payment_terms_days, currency=currency,
        seller=_party(seller) if seller else None,
        bank_accounts=tuple(BankAccount(a["iban"], a.get("bic"), a.get("bank_name"))
                            for a in (seller or {}).get("bank_accounts") or ()),
        logo_sha256=(seller or {}).get("logo_sha256"), bill_to=_party(bill_to), lines=lines,
        tax_groups=tuple(TaxGroup(g.code, g.percent, round_money(g.basis, currency), round_money(g.tax, currency),
                                  g.note) for g in groups),
        subtotal=round_money(Decimal(invoice.subtotal), currency),
        tax_total=round_money(Decimal(invoice.tax_total), currency),
        total=round_money(Decimal(invoice.total), currency),
        payment_reference=invoice.payment_reference, credited_number=credited_number, notes=invoice.notes,
        footer=(seller or {}).get("invoice_footer"), language=(seller or {}).get("invoice_language") or "en")


# --- formatting, per invoice language ---------------------------------------------------------------------------

_SEPARATORS = {"en": (",", "."), "de": (".", ","), "fr": ("\u202f", ",")}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_money(amount: Decimal, currency: str, language: str) -> str:
    places = MINOR_UNITS.get(currency, 2)
    text = f"{round_money(amount, currency):,.{places}f}"
    thousands, decimal = _SEPARATORS.get(language, _SEPARATORS["en"])
    text = text.replace(",", "\x00").replace(".", decimal).replace("\x00", thousands)
    return f"{text} {currency}"


def format_number(value: Decimal, language: str) -> str:
    text = f"{value.normalize():f}" if value != value.to_integral_value() else f"{value.quantize(Decimal(1))}"
    return text.replace(".", _SEPARATORS.get(language, _SEPARATORS["en"])[1])


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    return str(getattr(country, "common_name", None) or country.name) if country else code


def format_date(value: date | None, language: str) -> str:
    if value is None:
        return "—"
    if language == "de":
        return value.strftime("%d.%m.%Y")
    if language == "fr":
        return value.strftime("%d/%m/%Y")
    return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"


LABELS: dict[str, dict[str, str]] = {
    "en": {
        "invoice": "Invoice", "credit_note": "Credit note", "draft": "DRAFT", "number": "Number",
        "issue_date": "Issue date", "due_date": "Due date", "reference": "Payment reference", "bill_to": "Bill to",
        "vat_id": "VAT ID", "registration": "Registration", "pos": "#", "description": "Description",
        "quantity": "Qty", "unit_price": "Unit price", "tax": "Tax", "net": "Net", "subtotal": "Subtotal (net)",
        "tax_on": "{category} {percent} % on {basis}", "total": "Total", "amount_due": "Amount due",
        "pay_to": "Please transfer {amount} by {due} to", "quote_reference": "quoting the payment reference",
        "iban": "IBAN", "bic": "BIC", "bank": "Bank", "scan": "Scan to pay (SEPA)",
        "credits": "Credits invoice {number}",
        "page": "Page", "of": "of", "no_seller": "Seller details were not set up when this was issued.",
        "hours": "h", "draft_note": "Draft: not a valid invoice until issued.",
    },
    "de": {
        "invoice": "Rechnung", "credit_note": "Gutschrift", "draft": "ENTWURF", "number": "Nummer",
        "issue_date": "Rechnungsdatum", "due_date": "Fällig am", "reference": "Zahlungsreferenz",
        "bill_to": "Rechnungsempfänger", "vat_id": "USt-IdNr.", "registration": "Register", "pos": "Pos.",
        "description": "Beschreibung", "quantity": "Menge", "unit_price": "Einzelpreis", "tax": "USt.",
        "net": "Netto", "subtotal": "Zwischensumme (netto)", "tax_on": "{category} {percent} % auf {basis}",
        "total": "Gesamtbetrag", "amount_due": "Zahlbetrag", "pay_to": "Bitte überweisen Sie {amount} bis {due} an",
        "quote_reference": "unter Angabe der Zahlungsreferenz", "iban": "IBAN", "bic": "BIC", "bank": "Bank",
        "scan": "Zum Bezahlen scannen (SEPA)", "credits": "Gutschrift zu Rechnung {number}", "page": "Seite",
        "of": "von", "no_seller": "Die Angaben zum Rechnungssteller fehlten bei Ausstellung.", "hours": "Std.",
        "draft_note": "Entwurf: erst nach Ausstellung eine gültige Rechnung.",
    },
    "fr": {
        "invoice": "Facture", "credit_note": "Avoir", "draft": "BROUILLON", "number": "Numéro",
        "issue_date": "Date de facture", "due_date": "Échéance", "reference": "Référence de paiement",
        "bill_to": "Facturé à", "vat_id": "N° TVA", "registration": "Immatriculation", "pos": "N°",
        "description": "Désignation", "quantity": "Qté", "unit_price": "Prix unitaire", "tax": "TVA", "net": "HT",
        "subtotal": "Total HT", "tax_on": "{category} {percent} % sur {basis}", "total": "Total TTC",
        "amount_due": "Net à payer", "pay_to": "Merci de virer {amount} avant le {due} à",
        "quote_reference": "en indiquant la référence de paiement", "iban": "IBAN", "bic": "BIC", "bank": "Banque",
        "scan": "Scanner pour payer (SEPA)", "credits": "Avoir sur la facture {number}", "page": "Page", "of": "sur",
        "no_seller": "Les informations du vendeur manquaient à l'émission.", "hours": "h",
        "draft_note": "Brouillon : pas une facture valable avant émission.",
    },
}
CATEGORY_LABELS: dict[str, dict[str, str]] = {
    "en": {"S": "VAT", "Z": "VAT zero rate", "E": "VAT exempt", "AE": "Reverse charge"},
    "de": {"S": "USt.", "Z": "USt. Nullsatz", "E": "USt.-befreit",
           "AE": "Steuerschuldnerschaft des Leistungsempfängers"},
    "fr": {"S": "TVA", "Z": "TVA taux zéro", "E": "Exonéré de TVA", "AE": "Autoliquidation"},
}
