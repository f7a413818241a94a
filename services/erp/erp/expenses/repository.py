import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from erp.db import utcnow
from erp.expenses.models import (
    CategoryRule,
    Expense,
    ExpenseBillingStatus,
    ExpenseCategory,
    ExpenseHistory,
    ExpenseReceipt,
)
from throughline_platform.paging import page_with_total


class ExpenseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, row: Expense | ExpenseHistory | ExpenseReceipt | ExpenseCategory | CategoryRule) -> None:
        self.session.add(row)

    async def get(self, expense_id: uuid.UUID, *, for_update: bool = False) -> Expense | None:
        return await self.session.get(Expense, expense_id, with_for_update=for_update)

    async def receipt(self, expense_id: uuid.UUID) -> ExpenseReceipt | None:
        return await self.session.get(ExpenseReceipt, expense_id)

    async def history(self, expense_id: uuid.UUID) -> list[ExpenseHistory]:
        rows = await self.session.execute(select(ExpenseHistory).where(ExpenseHistory.expense_id == expense_id)
                                          .order_by(ExpenseHistory.created_at, ExpenseHistory.id))
        return list(rows.scalars())

    async def search(self, *, filters: dict[str, Any], limit: int, offset: int) -> tuple[list[Expense], int]:
        query = select(Expense)
        for name, value in filters.items():
            if value is not None:
                query = query.where(getattr(Expense, name) == value)
        return await page_with_total(self.session, query, Expense.expense_date.desc(), Expense.created_at.desc(),
                                     Expense.id, limit=limit, offset=offset)

    async def unbill(self, invoice_id: uuid.UUID) -> None:
        """The expenses invoiced on an invoice are unbilled again."""
        await self.session.execute(
            update(Expense).where(Expense.invoice_id == invoice_id,
                                  Expense.billing_status == ExpenseBillingStatus.INVOICED)
            .values(billing_status=ExpenseBillingStatus.UNBILLED, invoice_id=None, invoiced_at=None,
                    updated_at=utcnow()))

    # --- categories and rules ---------------------------------------------------------------------

    async def category(self, category_id: uuid.UUID) -> ExpenseCategory | None:
        return await self.session.get(ExpenseCategory, category_id)

    async def category_by_name(self, name: str) -> ExpenseCategory | None:
        query = select(ExpenseCategory).where(func.lower(ExpenseCategory.name) == name.lower())
        return (await self.session.execute(query)).scalars().first()

    async def categories(self) -> list[ExpenseCategory]:
        return list((await self.session.execute(select(ExpenseCategory).order_by(ExpenseCategory.name))).scalars())

    async def rules(self) -> list[CategoryRule]:
        rows = await self.session.execute(select(CategoryRule).order_by(CategoryRule.priority, CategoryRule.pattern))
        return list(rows.scalars())

    async def rule(self, rule_id: uuid.UUID) -> CategoryRule | None:
        return await self.session.get(CategoryRule, rule_id)

    async def rule_by_pattern(self, field: str, pattern: str) -> CategoryRule | None:
        query = select(CategoryRule).where(CategoryRule.field == field,
                                           func.lower(CategoryRule.pattern) == pattern.lower())
        return (await self.session.execute(query)).scalars().first()

    async def delete(self, row: CategoryRule | Expense) -> None:
        await self.session.delete(row)
