"""The chart of accounts: codes unique (case-insensitively); an account's type and currency never change once
created (its lines were booked on them); the default chart's accounts (with a role) are renamed or renumbered,
never deactivated; an account with lines is deactivated, not deleted."""

import uuid

from erp.ledger.chart import AccountRole
from erp.ledger.models import Account
from erp.ledger.repository import LedgerRepository
from erp.ledger.schemas import AccountIn, AccountPatch
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import Conflict, NotFound, Unprocessable


async def create_account(uow: UnitOfWork, body: AccountIn) -> Account:
    repo = LedgerRepository(uow.session)
    if await repo.account_by_code(body.code) is not None:
        raise Conflict(f"An account with code {body.code!r} already exists.", type_slug="duplicate-code")
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
    for name, value in changes.items():
        setattr(account, name, value)
    await uow.commit()
    return account


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
