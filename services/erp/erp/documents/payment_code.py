"""The SEPA payment QR code ("GiroCode", the European Payments Council's EPC069-12 quick response code): a
banking app scans it and fills in the transfer (beneficiary, IBAN, BIC, amount in euro, and the RF creditor
reference as structured remittance information). EUR only, 0.01 to 999,999,999.99."""

from decimal import Decimal

import segno

MAX_AMOUNT = Decimal("999999999.99")


def epc_payload(*, name: str, iban: str, bic: str | None, amount: Decimal, reference: str | None) -> str:
    """Version 002 (BIC optional in the EEA), character set 1 (UTF-8), SEPA credit transfer."""
    lines = ["BCD", "002", "1", "SCT", bic or "", name[:70], iban, f"EUR{amount:.2f}", "",
             reference or "", ""]
    return "\n".join(lines).rstrip("\n")


def _code(payload: str) -> segno.QRCode:
    """Error correction M, as the EPC guideline asks."""
    return segno.make(payload, error="m", micro=False, encoding="utf-8", boost_error=False)


def epc_svg(payload: str) -> str:
    """The code as an inline SVG element (the HTML view's)."""
    return str(_code(payload).svg_inline(scale=3, border=2, omitsize=False))


def epc_matrix(payload: str) -> tuple[bytearray, ...]:
    """The code's modules, row by row (1: dark), without a quiet zone (the PDF's, drawn by erp.documents.layout)."""
    return tuple(_code(payload).matrix)


def payable_by_code(currency: str, amount: Decimal) -> bool:
    return currency == "EUR" and Decimal("0.01") <= amount <= MAX_AMOUNT
