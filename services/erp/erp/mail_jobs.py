"""The scheduler role's mail senders (docs/mail.md): they deliver the ERP's mail outbox (invoices, reminders) over
SMTP, and the outcome hook records what became of each mail on the invoice's mail history and its reminder."""

import asyncio

from erp.db import MAIL_OUTBOX
from erp.mailing.api import record_outcomes
from erp.reminders.api import record_delivery
from erp.settings import get_settings
from throughline_messaging.runtime import ServiceRuntime
from throughline_messaging.uow import UnitOfWork
from throughline_platform.mail.sender import MailOutcome, MailSender


async def record_mail_outcomes(uow: UnitOfWork, outcomes: list[MailOutcome]) -> None:
    """One batch of outcomes, in the sender's transaction (which stamps the outbox rows recorded)."""
    await record_delivery(uow, await record_outcomes(uow, outcomes))


async def mail_sender_job(runtime: ServiceRuntime) -> None:
    settings = get_settings()
    senders: list[MailSender[UnitOfWork]] = [
        MailSender(service="erp", outbox=MAIL_OUTBOX, database_url=settings.database_url, smtp=settings.smtp(),
                   transactions=runtime.uow, on_outcomes=record_mail_outcomes)
        for _ in range(settings.mail_senders)]
    # One readiness component: the queue is the table's, and the first sender says whether SMTP can be reached.
    runtime.add_readiness("mail", senders[0].readiness)
    await asyncio.gather(*(sender.run() for sender in senders))
