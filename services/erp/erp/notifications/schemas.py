from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class Notification(BaseModel):
    key: str = Field(description="Stable while the thing it is about is unchanged (the gateway keeps it read)")
    kind: Literal["expense_to_approve", "week_to_approve", "invoice_overdue", "budget_threshold"]
    title: str
    detail: str | None = None
    link: str = Field(description="The web app's page for it (#/...)")
    at: datetime


class NotificationList(BaseModel):
    items: list[Notification]
