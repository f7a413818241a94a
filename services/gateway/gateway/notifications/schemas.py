from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class NotificationOut(BaseModel):
    key: str
    kind: str = Field(description="lead_assigned, task_due, expense_to_approve, week_to_approve, invoice_overdue, "
                                  "budget_threshold")
    title: str
    detail: str | None = None
    link: str = Field(description="The web app's page for it (#/...)")
    at: datetime
    read: bool


class Notifications(BaseModel):
    items: list[NotificationOut] = Field(description="Newest first")
    unread: int
    unavailable: list[str] = Field(default_factory=list,
                                   description="Services that did not answer: their notifications are missing")


class MarkRead(BaseModel):
    model_config = ConfigDict(extra="forbid")
    keys: list[str] = Field(min_length=1, max_length=200)
