"""The default chart of accounts for a service business, and the roles the automatic postings name accounts by.

Each account the migration creates (0018) has a fixed id derived from its role, so posting an invoice needs no
lookup of its accounts: finance may renumber, rename or describe them, never remove them (a role is the account's
identity for the postings). Accounts finance adds have no role. Only append here: the migration reads this list.
"""

import uuid
from dataclasses import dataclass
from enum import StrEnum

# Namespace of the default accounts' ids (uuid5 of the role): stable across databases, so code and data agree.
_NAMESPACE = uuid.UUID("6f1c1f52-5b8e-4c55-9d0e-2a7f3f0b1e26")


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"


# Debit-normal types: their balance is debits minus credits; the others' credits minus debits.
DEBIT_NORMAL = frozenset({AccountType.ASSET, AccountType.EXPENSE})
# What the profit and loss shows; the balance sheet shows the rest (and the period's result as equity).
PROFIT_AND_LOSS = frozenset({AccountType.INCOME, AccountType.EXPENSE})


class AccountRole(StrEnum):
    """What an automatic posting books to: each role is one account of the default chart."""

    BANK = "bank"
    ACCOUNTS_RECEIVABLE = "accounts_receivable"
    VAT_INPUT = "vat_input"
    VAT_INPUT_REVERSE_CHARGE = "vat_input_reverse_charge"
    SUSPENSE = "suspense"
    ACCOUNTS_PAYABLE = "accounts_payable"
    EXPENSES_PAYABLE = "expenses_payable"  # approved expenses owed to the people who paid them
    VAT_OUTPUT = "vat_output"
    VAT_OUTPUT_REVERSE_CHARGE = "vat_output_reverse_charge"  # VAT a buyer self-assesses on a reverse-charge purchase
    EQUITY = "equity"
    RETAINED_EARNINGS = "retained_earnings"
    REVENUE = "revenue"
    REVENUE_REVERSE_CHARGE = "revenue_reverse_charge"  # services to EU businesses, VAT due by the buyer: shown apart
    REVENUE_LATE_FEES = "revenue_late_fees"
    FX_GAIN = "fx_gain"
    EXPENSE_TRAVEL = "expense_travel"
    EXPENSE_LODGING = "expense_lodging"
    EXPENSE_MEALS = "expense_meals"
    EXPENSE_SOFTWARE = "expense_software"
    EXPENSE_EQUIPMENT = "expense_equipment"
    EXPENSE_SUBCONTRACTORS = "expense_subcontractors"
    EXPENSE_RENT = "expense_rent"
    EXPENSE_PAYROLL = "expense_payroll"
    EXPENSE_OTHER = "expense_other"
    FX_LOSS = "fx_loss"


def account_id(role: AccountRole) -> uuid.UUID:
    """The id of the default chart's account with this role."""
    return uuid.uuid5(_NAMESPACE, role.value)


@dataclass(frozen=True)
class DefaultAccount:
    code: str
    name: str
    type: AccountType
    role: AccountRole
    # The expense category (migration 0003's fixed ids) whose approved expenses this account takes.
    expense_category_id: str | None = None

    @property
    def id(self) -> uuid.UUID:
        return account_id(self.role)


def _category(n: int) -> str:
    return f"00000000-0000-4000-8000-00000000000{n}"


A, L, E, INC, X = AccountType.ASSET, AccountType.LIABILITY, AccountType.EQUITY, AccountType.INCOME, AccountType.EXPENSE
R = AccountRole
DEFAULT_CHART: tuple[DefaultAccount, ...] = (
    DefaultAccount("1000", "Bank", A, R.BANK),
    DefaultAccount("1100", "Accounts receivable", A, R.ACCOUNTS_RECEIVABLE),
    DefaultAccount("1400", "VAT input (deductible)", A, R.VAT_INPUT),
    DefaultAccount("1410", "VAT input, reverse charge", A, R.VAT_INPUT_REVERSE_CHARGE),
    DefaultAccount("1900", "Suspense", A, R.SUSPENSE),
    DefaultAccount("2000", "Accounts payable", L, R.ACCOUNTS_PAYABLE),
    DefaultAccount("2100", "Expenses to reimburse", L, R.EXPENSES_PAYABLE),
    DefaultAccount("2200", "VAT output", L, R.VAT_OUTPUT),
    DefaultAccount("2210", "VAT output, reverse charge (self-assessed)", L, R.VAT_OUTPUT_REVERSE_CHARGE),
    DefaultAccount("3000", "Owner's equity", E, R.EQUITY),
    DefaultAccount("3100", "Retained earnings", E, R.RETAINED_EARNINGS),
    DefaultAccount("4000", "Revenue, services", INC, R.REVENUE),
    DefaultAccount("4100", "Revenue, reverse charge (EU B2B)", INC, R.REVENUE_REVERSE_CHARGE),
    DefaultAccount("4200", "Revenue, late fees", INC, R.REVENUE_LATE_FEES),
    DefaultAccount("4900", "Foreign exchange gains", INC, R.FX_GAIN),
    DefaultAccount("6000", "Travel", X, R.EXPENSE_TRAVEL, _category(1)),
    DefaultAccount("6010", "Lodging", X, R.EXPENSE_LODGING, _category(2)),
    DefaultAccount("6020", "Meals and entertainment", X, R.EXPENSE_MEALS, _category(3)),
    DefaultAccount("6100", "Software and subscriptions", X, R.EXPENSE_SOFTWARE, _category(4)),
    DefaultAccount("6200", "Equipment", X, R.EXPENSE_EQUIPMENT, _category(5)),
    DefaultAccount("6300", "Subcontractors", X, R.EXPENSE_SUBCONTRACTORS),
    DefaultAccount("6400", "Rent", X, R.EXPENSE_RENT),
    DefaultAccount("6500", "Payroll", X, R.EXPENSE_PAYROLL),
    DefaultAccount("6900", "Other expenses", X, R.EXPENSE_OTHER, _category(6)),
    DefaultAccount("6950", "Foreign exchange losses", X, R.FX_LOSS),
)
