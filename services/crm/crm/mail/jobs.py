"""The scheduler role's mail senders (docs/mail.md): they deliver the CRM's mail outbox over SMTP, and the outcome
hook records what became of each mail (its status on the timelines, `mail.sent`)."""

import asyncio

from crm.db import MAIL_OUTBOX
from crm.mail.service import record_mail_outcomes
from crm.settings import get_settings
from throughline_messaging.runtime import ServiceRuntime
from throughline_messaging.uow import UnitOfWork
from throughline_platform.mail.sender import MailSender


async def mail_sender_job(runtime: ServiceRuntime) -> None:
    settings = get_settings()
    senders: list[MailSender[UnitOfWork]] = [
        MailSender(service="crm", outbox=MAIL_OUTBOX, database_url=settings.database_url, smtp=settings.smtp(),
                   transactions=runtime.uow, on_outcomes=record_mail_outcomes)
        for _ in range(settings.mail_senders)]
    # One readiness component: the queue is the table's, and the first sender says whether SMTP can be reached.
    runtime.add_readiness("mail", senders[0].readiness)
    await asyncio.gather(*(sender.run() for sender in senders))
