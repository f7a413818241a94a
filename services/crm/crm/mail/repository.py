import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm.mail.models import CrmMail, Direction, EmailTemplate, MailConsent, MailSenderProfile
from throughline_platform.paging import page_with_total


class TemplateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, template: EmailTemplate) -> None:
        self.session.add(template)

    async def get(self, template_id: uuid.UUID, *, for_update: bool = False) -> EmailTemplate | None:
        if for_update:
            return (await self.session.execute(
                select(EmailTemplate).where(EmailTemplate.id == template_id).with_for_update())).scalars().first()
        return await self.session.get(EmailTemplate, template_id)

    async def by_name(self, name: str) -> EmailTemplate | None:
        return (await self.session.execute(
            select(EmailTemplate).where(func.lower(EmailTemplate.name) == name.lower()))).scalars().first()

    async def many(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, EmailTemplate]:
        if not ids:
            return {}
        rows = await self.session.execute(select(EmailTemplate).where(EmailTemplate.id.in_(ids)))
        return {t.id: t for t in rows.scalars()}

    async def all(self) -> list[EmailTemplate]:
        return list((await self.session.execute(select(EmailTemplate).order_by(EmailTemplate.name))).scalars())


class MailRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, mail: CrmMail) -> None:
        self.session.add(mail)

    async def get(self, mail_id: uuid.UUID) -> CrmMail | None:
        return await self.session.get(CrmMail, mail_id)

    async def by_message_ids(self, message_ids: list[str]) -> list[CrmMail]:
        """Mails (ours first) with one of these Message-IDs, in the order given."""
        if not message_ids:
            return []
        rows = list((await self.session.execute(
            select(CrmMail).where(CrmMail.message_id.in_(message_ids)))).scalars())
        order = {m: i for i, m in enumerate(message_ids)}
        return sorted(rows, key=lambda r: (order[r.message_id], r.direction != Direction.OUTBOUND))

    async def statuses(self, mail_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not mail_ids:
            return {}
        rows = await self.session.execute(select(CrmMail.id, CrmMail.status).where(CrmMail.id.in_(mail_ids)))
        return {mail_id: status for mail_id, status in rows.tuples()}

    async def inbound_by_message_id(self, message_id: str) -> CrmMail | None:
        return (await self.session.execute(select(CrmMail).where(
            CrmMail.direction == Direction.INBOUND, CrmMail.message_id == message_id))).scalars().first()

    async def search(self, *, contact_id: uuid.UUID | None, company_id: uuid.UUID | None, deal_id: uuid.UUID | None,
                     lead_id: uuid.UUID | None, enrolment_id: uuid.UUID | None, direction: str | None,
                     unmatched: bool, limit: int, offset: int) -> tuple[list[CrmMail], int]:
        query = select(CrmMail)
        for column, value in ((CrmMail.contact_id, contact_id), (CrmMail.company_id, company_id),
                              (CrmMail.deal_id, deal_id), (CrmMail.lead_id, lead_id),
                              (CrmMail.enrolment_id, enrolment_id), (CrmMail.direction, direction)):
            if value is not None:
                query = query.where(column == value)
        if unmatched:
            query = query.where(CrmMail.direction == Direction.INBOUND, CrmMail.contact_id.is_(None),
                                CrmMail.lead_id.is_(None))
        return await page_with_total(self.session, query, CrmMail.occurred_at.desc(), CrmMail.id, limit=limit,
                                     offset=offset)


class ConsentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, email: str) -> MailConsent | None:
        return await self.session.get(MailConsent, email.lower())

    async def withdrawn(self, emails: set[str]) -> set[str]:
        """Which of these addresses (lower case) withdrew their consent."""
        if not emails:
            return set()
        rows = await self.session.execute(select(MailConsent.email).where(
            MailConsent.email.in_({e.lower() for e in emails}), MailConsent.status == "withdrawn"))
        return set(rows.scalars())

    async def put(self, *, email: str, status: str, source: str, changed_at: datetime, changed_by: str | None,
                  mail_id: uuid.UUID | None, keep_withdrawal: bool = False) -> None:
        """Record consent for an address. `keep_withdrawal`: an address already withdrawn keeps its first
        withdrawal (when and where from), as a second click on an unsubscribe link changes nothing."""
        values = {"email": email.lower(), "status": status, "source": source[:200], "changed_at": changed_at,
                  "changed_by": changed_by, "mail_id": mail_id}
        statement = pg_insert(MailConsent).values(**values)
        update = {k: statement.excluded[k] for k in ("status", "source", "changed_at", "changed_by", "mail_id")}
        if keep_withdrawal:
            await self.session.execute(statement.on_conflict_do_update(
                index_elements=["email"], set_=update, where=MailConsent.status != "withdrawn"))
        else:
            await self.session.execute(statement.on_conflict_do_update(index_elements=["email"], set_=update))


class SenderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: str) -> MailSenderProfile | None:
        return await self.session.get(MailSenderProfile, user_id)

    async def many(self, user_ids: set[str]) -> dict[str, MailSenderProfile]:
        if not user_ids:
            return {}
        rows = await self.session.execute(select(MailSenderProfile).where(MailSenderProfile.user_id.in_(user_ids)))
        return {p.user_id: p for p in rows.scalars()}

    async def remember(self, user_id: str, email: str, now: datetime, name: str | None = None) -> MailSenderProfile:
        """The caller's profile, made on first use (named after the address until they choose a name); the address
        follows the token's."""
        default_name = name or default_sender_name(email, user_id)
        statement = pg_insert(MailSenderProfile).values(user_id=user_id, name=default_name, email=email,
                                                        updated_at=now)
        update: dict[str, object] = {"email": statement.excluded.email, "updated_at": statement.excluded.updated_at}
        if name:
            update["name"] = statement.excluded.name
        await self.session.execute(statement.on_conflict_do_update(index_elements=["user_id"], set_=update))
        profile = await self.session.get(MailSenderProfile, user_id, populate_existing=True)
        assert profile is not None
        return profile


def default_sender_name(email: str, user_id: str) -> str:
    """A sender's name until they choose one: their address's local part, as words (`sam.seller` -> `Sam Seller`)."""
    return email.split("@", 1)[0].replace(".", " ").replace("_", " ").title() or user_id
