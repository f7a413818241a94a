"""Which open invoice a bank credit pays: the decision, pure (the service loads the candidates and records it).

In this order, the first that decides wins (docs/erp-invoicing-out.md, "Reconciliation"):

1. **RF reference.** Any ISO 11649 reference in the remittance (structured or typed into the free text, with
   blanks or dashes as payers type them; its check digits validated) that is an invoice's `payment_reference`.
   One open invoice: it is paid, up to its balance due. Several: paid together only when the credit is exactly
   their balances' sum (one transfer for several invoices); otherwise a person splits it.
2. **Amount and payer.** An open invoice whose balance due is exactly the credit, of a client the payer is: the
   payer's IBAN paid that client's invoices before, or the payer's name is the client's (legal forms, case,
   accents and punctuation aside). Exactly one such invoice, or nothing: two candidates are a question for a
   person, never a guess.

More than the balance due (a client paying twice, or too much): the balance is paid and the rest stays on the
bank line, waiting for a person to refund it or apply it elsewhere; the invoice rules refuse overpayments.
Decisions are taken line after line with the balances they leave, so two credits of one statement never pay the
same balance twice.
"""

import re
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from difflib import SequenceMatcher
from enum import StrEnum
from functools import lru_cache

from stdnum import iso11649

from throughline_events.money import ZERO, round_money


class MatchMethod(StrEnum):
    REFERENCE = "reference"
    AMOUNT_AND_IBAN = "amount_and_iban"
    AMOUNT_AND_NAME = "amount_and_name"
    MANUAL = "manual"
    LINKED = "linked"  # a person said the line is a payment recorded by hand before (nothing new is paid or posted)


@dataclass(frozen=True)
class Credit:
    amount: Decimal
    currency: str
    booking_date: date
    references: tuple[str, ...] = ()  # valid RF references found in the remittance (`rf_references`)
    payer_name: str | None = None
    payer_iban: str | None = None
    reversal: bool = False


@dataclass(eq=False)  # compared by identity: two invoices are never the same, whatever their fields
class OpenInvoice:
    """An invoice as matching sees it; `balance_due` goes down as credits are decided."""

    id: uuid.UUID
    number: str
    client_id: uuid.UUID
    client_name: str
    currency: str
    balance_due: Decimal
    is_open: bool  # issued or partially paid
    payment_reference: str | None = None
    status: str = ""


@dataclass(frozen=True)
class Allocation:
    invoice_id: uuid.UUID
    amount: Decimal


@dataclass(frozen=True)
class Decision:
    allocations: tuple[Allocation, ...] = ()
    method: MatchMethod | None = None
    note: str | None = None  # why the line waits for a person, or what is left on it

    @property
    def applied(self) -> Decimal:
        return sum((a.amount for a in self.allocations), ZERO)


@dataclass
class Matcher:
    invoices: Iterable[OpenInvoice]
    # Payer IBAN -> the clients whose invoices that account has paid before; what this run matches is added, so
    # a payer recognised by reference in one line is recognised by amount in the next.
    known_payers: dict[str, set[uuid.UUID]]
    today: date
    by_id: dict[uuid.UUID, OpenInvoice] = field(init=False)
    by_reference: dict[str, OpenInvoice] = field(init=False)
    by_amount: dict[tuple[str, Decimal], list[OpenInvoice]] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id, self.by_reference = {}, {}
        self.by_amount = defaultdict(list)
        for invoice in self.invoices:
            self.by_id[invoice.id] = invoice
            if invoice.payment_reference:
                self.by_reference[invoice.payment_reference] = invoice
            if invoice.is_open and invoice.balance_due > ZERO:
                self.by_amount[(invoice.currency, invoice.balance_due)].append(invoice)

    def decide(self, credit: Credit) -> Decision:
        if credit.reversal:
            return Decision(note="a returned payment (reversal), not a client paying an invoice")
        if credit.booking_date > self.today:
            return Decision(note=f"booked on {credit.booking_date}, a day still to come")
        referenced = list({i.id: i for ref in credit.references if (i := self.by_reference.get(ref))}.values())
        decision = self._by_reference(credit, referenced) if referenced else self._by_amount(credit)
        if credit.payer_iban and decision.allocations:
            self.known_payers.setdefault(credit.payer_iban, set()).update(
                self.by_id[a.invoice_id].client_id for a in decision.allocations)
        return decision

    def _by_reference(self, credit: Credit, referenced: list[OpenInvoice]) -> Decision:
        names = ", ".join(i.number for i in referenced)
        other_currency = [i for i in referenced if i.currency != credit.currency]
        if other_currency:
            return Decision(note=f"the reference names {names}, billed in {other_currency[0].currency}, not "
                                 f"{credit.currency}")
        payable = [i for i in referenced if i.is_open and i.balance_due > ZERO]
        if not payable:
            states = ", ".join(f"{i.number} ({i.status or 'settled'})" for i in referenced)
            return Decision(note=f"the reference names {states}, which has nothing left to pay: a second payment "
                                 f"to refund, or to apply elsewhere")
        if len(payable) == 1:
            invoice = payable[0]
            amount = min(credit.amount, invoice.balance_due)
            self._pay(invoice, amount)
            left = round_money(credit.amount - amount, credit.currency)
            note = (f"{left} {credit.currency} more than the balance due of {invoice.number}: refund it or apply it "
                    f"elsewhere") if left > ZERO else None
            return Decision((Allocation(invoice.id, amount),), MatchMethod.REFERENCE, note)
        total = round_money(sum((i.balance_due for i in payable), ZERO), credit.currency)
        if credit.amount != total:
            return Decision(note=f"the references name {', '.join(i.number for i in payable)}, whose balances add "
                                 f"up to {total} {credit.currency}, not {credit.amount}: split it by hand")
        allocations = []
        for invoice in payable:
            allocations.append(Allocation(invoice.id, invoice.balance_due))
            self._pay(invoice, invoice.balance_due)
        return Decision(tuple(allocations), MatchMethod.REFERENCE)

    def _by_amount(self, credit: Credit) -> Decision:
        candidates = self.by_amount.get((credit.currency, credit.amount), [])
        if not candidates:
            return Decision(note="no RF reference, and no open invoice of this amount")
        clients = self.known_payers.get(credit.payer_iban or "", set())
        by_iban = [i for i in candidates if i.client_id in clients]
        by_name = [i for i in candidates if i not in by_iban and similar_names(credit.payer_name, i.client_name)]
        evidence = by_iban + by_name
        if len(evidence) == 1:
            invoice = evidence[0]
            self._pay(invoice, credit.amount)
            method = MatchMethod.AMOUNT_AND_IBAN if by_iban else MatchMethod.AMOUNT_AND_NAME
            return Decision((Allocation(invoice.id, credit.amount),), method)
        if evidence:
            numbers = ", ".join(sorted(i.number for i in evidence))
            return Decision(note=f"{len(evidence)} open invoices of this amount fit the payer ({numbers}): "
                                 f"choose by hand")
        return Decision(note=f"{len(candidates)} open invoice(s) of this amount, none of a client the payer is "
                             f"known to be")

    def _pay(self, invoice: OpenInvoice, amount: Decimal) -> None:
        """Take the amount off the invoice's balance, moving it to the bucket of its new balance."""
        bucket = self.by_amount.get((invoice.currency, invoice.balance_due))
        if bucket and invoice in bucket:
            bucket.remove(invoice)
        invoice.balance_due -= amount
        if invoice.balance_due > ZERO:
            self.by_amount[(invoice.currency, invoice.balance_due)].append(invoice)


_RF_START = re.compile(r"RF[0-9]{2}")
_ALNUM_RUNS = re.compile(r"[A-Z0-9]+")
_MAX_RF = 25  # ISO 11649: "RF", two check digits and at most 21 characters


def rf_references(texts: Iterable[str]) -> tuple[str, ...]:
    """Every valid ISO 11649 reference in the texts, compact (`RF36INV202600042`), in the order found. Payers
    type them in groups (`RF36 INV2 0260 0042`), with dashes, glued to other words (`Ref:RF36...`) or followed
    by more text: from each `RF` and two digits, the following runs of letters and digits are joined one by one,
    and every join whose check digits hold is a candidate. A candidate that is no invoice's reference matches
    nothing (a wrong one passes the check one time in 97), so several candidates are harmless."""
    found: dict[str, None] = {}
    for text in texts:
        runs = _ALNUM_RUNS.findall(text.upper())
        for n, run in enumerate(runs):
            for start in _RF_START.finditer(run):
                candidate = run[start.start():]
                following = iter(runs[n + 1:])
                while len(candidate) <= _MAX_RF:
                    if len(candidate) >= 5 and _check_digits_hold(candidate) and iso11649.is_valid(candidate):
                        found.setdefault(candidate)
                    nxt = next(following, None)
                    if nxt is None:
                        break
                    candidate += nxt
    return tuple(found)


def _check_digits_hold(candidate: str) -> bool:
    """ISO 7064 MOD 97-10 over the reference with "RF" and its check digits moved to the end, letters as numbers:
    the check stdnum's `iso11649.is_valid` makes, without its cleaning and length rules, so that the joins that
    cannot be a reference (nearly all) are dropped at a fraction of its cost."""
    return int("".join(str(int(ch, 36)) for ch in candidate[4:] + candidate[:4])) % 97 == 1


# Words that say what kind of company it is, not which one.
_LEGAL_FORMS = frozenset([
    "ab", "ag", "aps", "as", "asa", "bv", "bvba", "co", "company", "corp", "corporation", "cv", "eg", "ek", "gbr",
    "gesellschaft", "gmbh", "group", "holding", "inc", "incorporated", "kg", "kgaa", "limited", "llc", "llp", "lp",
    "ltd", "mbh", "nv", "ohg", "oy", "plc", "pllc", "pte", "pty", "sa", "sarl", "sas", "sc", "se", "sl", "spa",
    "sprl", "srl", "the", "ug", "und", "and", "e", "v", "ev",
])


@lru_cache(maxsize=16384)
def _name_words(name: str) -> tuple[str, ...]:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    words = re.findall(r"[a-z0-9]+", plain)
    kept = tuple(w for w in words if w not in _LEGAL_FORMS)
    return kept or tuple(words)


def similar_names(payer: str | None, client: str) -> bool:
    """The payer's name is the client's: the same words once legal forms, case, accents and punctuation are
    set aside ("ACME GMBH" and "Acme GmbH", "Müller & Söhne KG" and "MUELLER SOEHNE"), one's words all among
    the other's ("Nordlicht Studio" paying for "Nordlicht Studio Design GmbH"), or nearly the same letters
    (a typo, where the numbers in the names agree). Used only between invoices of exactly the credit's amount,
    and never to choose between two."""
    if not payer:
        return False
    a, b = _name_words(_transliterate(payer)), _name_words(_transliterate(client))
    if not a or not b:
        return False
    if set(a) <= set(b) or set(b) <= set(a):
        return len("".join(a if len(a) <= len(b) else b)) >= 3
    if {w for w in a if any(c.isdigit() for c in w)} != {w for w in b if any(c.isdigit() for c in w)}:
        return False  # "Studio 2" is not "Studio 3", however alike the letters
    return SequenceMatcher(None, " ".join(a), " ".join(b)).ratio() >= 0.88


def _transliterate(name: str) -> str:
    """German umlauts as bank systems often spell them (ae, oe, ue, ss), so both spellings compare equal."""
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("Ä", "Ae"), ("Ö", "Oe"), ("Ü", "Ue"),
                          ("ß", "ss")):
        name = name.replace(umlaut, plain)
    return name
