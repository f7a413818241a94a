"""The chart of accounts: codes unique (case-insensitively); an account's type and currency never change once
created (its lines were booked on them); the default chart's accounts (with a role) are renamed or renumbered,
never deactivated; an account with lines is deactivated, not deleted."""

import uuid
from datetime import date
from decimal import Decimal

from erp.ledger.chart import AccountRole, AccountType
from erp.ledger.models import Account
from erp.ledger.repository import LedgerRepository
from erp.ledger.schemas import AccountIn, AccountPatch
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import Conflict, NotFound, Unprocessable


async def create_account(uow: UnitOfWork, body: AccountIn) -> Account:
    repo = LedgerRepository(uow.session)
    if await repo.account_by_code(body.code) is not None:
        raise Conflict(f"An account with code {body.code!r} already exists.", type_slug="duplicate-code")
    await _check_category(repo, body.expense_category_id)
    account = Account(id=uuid.uuid4(), code=body.code, name=body.name, type=body.type, currency=body.currency,
                      expense_category_id=body.expense_category_id, description=body.description, active=True)
    repo.add(account)
    await uow.commit()
    return account


async def update_account(uow: UnitOfWork, account_id: uuid.UUID, body: AccountPatch) -> Account:
    repo = LedgerRepository(uow.session)
    account = await get_account(uow, account_id)
    changes = body.model_dump(exclude_unset=True)
    for name in ("code", "name", "active"):
        if name in changes and changes[name] is None:
            raise Unprocessable(f"{name} cannot be null.", field=name)
    if changes.get("active") is False and account.role is not None:
        raise Conflict(f"Account {account.code} is the default chart's {account.role} account: automatic postings "
                       f"book to it, so it stays active.", type_slug="system-account")
    if ("code" in changes and changes["code"].lower() != account.code.lower()
            and await repo.account_by_code(changes["code"]) is not None):
        raise Conflict(f"An account with code {changes['code']!r} already exists.", type_slug="duplicate-code")
    if changes.get("expense_category_id") is not None:
        await _check_category(repo, changes["expense_category_id"])
    for name, value in changes.items():
        setattr(account, name, value)
    await uow.commit()
    return account


async def _check_category(repo: LedgerRepository, category_id: uuid.UUID | None) -> None:
    if category_id is not None and not await repo.expense_category_exists(category_id):
        raise Unprocessable(f"expense_category_id: expense category {category_id} does not exist.",
                            field="expense_category_id", type_slug="unknown-expense-category")


async def get_account(uow: UnitOfWork, account_id: uuid.UUID) -> Account:
    account = await LedgerRepository(uow.session).account(account_id)
    if account is None:
        raise NotFound(f"Account {account_id} does not exist.")
    return account


async def expense_account(uow: UnitOfWork, category_id: uuid.UUID | None) -> AccountRole | uuid.UUID:
    """Where an approved expense of this category is booked: the active expense account linked to the category,
    else "Other expenses"."""
    found = await LedgerRepository(uow.session).expense_account_of(category_id) if category_id else None
    return found or AccountRole.EXPENSE_OTHER


# --- bank accounts (banking links each statement account to one) ---

BANK_CODES = range(1001, 1100)  # where the ledger accounts of the second and further bank accounts are numbered


async def create_bank_account(uow: UnitOfWork, name: str, currency: str) -> uuid.UUID:
    """A new asset account for a bank account (in the caller's transaction): the first free code from 1001, in the
    bank account's currency. 409 when 1001-1099 are all taken (finance then links one by hand)."""
    repo = LedgerRepository(uow.session)
    taken = await repo.codes()
    code = next((str(n) for n in BANK_CODES if str(n) not in taken), None)
    if code is None:
        raise Conflict("Codes 1001-1099 are all taken: no ledger account can be created for a new bank account.",
                       type_slug="no-bank-account-code")
    account = Account(id=uuid.uuid4(), code=code, name=name[:200], type=AccountType.ASSET, currency=currency,
                      description="A bank account's ledger account, created by its first statement.", active=True)
    repo.add(account)
    await uow.session.flush()
    return account.id


async def usable_account(uow: UnitOfWork, account_id: uuid.UUID, currency: str, field: str) -> Account:
    """The account, active and kept in `currency` (or any): else a 422 naming `field`."""
    account = await LedgerRepository(uow.session).account(account_id)
    if account is None:
        raise Unprocessable(f"{field}: account {account_id} does not exist.", type_slug="unknown-account", field=field)
    if not account.active:
        raise Unprocessable(f"{field}: account {account.code} is inactive.", type_slug="inactive-account", field=field)
    if account.currency is not None and account.currency != currency:
        raise Unprocessable(f"{field}: account {account.code} is kept in {account.currency}, not {currency}.",
                            type_slug="account-currency", field=field)
    return account


async def account_balance(uow: UnitOfWork, account_id: uuid.UUID, currency: str, before: date) -> Decimal:
    """Debits minus credits on the account in `currency`, dated before `before`."""
    return await LedgerRepository(uow.session).balance(account_id, currency, before)
