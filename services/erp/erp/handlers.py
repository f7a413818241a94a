"""What the ERP does with CRM events. The consumer's inbox already makes each effect happen once."""

from erp.clients.replica import apply_company_state, apply_contact_state
from erp.clients.repository import ClientRepository
from erp.projects.from_deals import projects_from_won_deals
from erp.projects.service import project_from_won_deal
from throughline_events.crm import CompanyCreatedV1, CompanyUpdatedV1, ContactCreatedV1, ContactUpdatedV1, DealWonV1
from throughline_messaging.consumer import BatchingHandler, Handler, HandlerContext


async def on_deal_won(ctx: HandlerContext) -> None:
    assert isinstance(ctx.payload, DealWonV1)
    await project_from_won_deal(ctx.uow, ctx.payload)


async def on_company_changed(ctx: HandlerContext) -> None:
    p = ctx.payload
    assert isinstance(p, CompanyCreatedV1 | CompanyUpdatedV1)
    await apply_company_state(
        ClientRepository(ctx.uow.session), company_id=p.company_id, version=p.version, name=p.name, email=p.email,
        phone=p.phone, address=p.address, deleted=isinstance(p, CompanyUpdatedV1) and p.deleted,
    )


async def on_contact_changed(ctx: HandlerContext) -> None:
    p = ctx.payload
    assert isinstance(p, ContactCreatedV1 | ContactUpdatedV1)
    await apply_contact_state(
        ClientRepository(ctx.uow.session), contact_id=p.contact_id, company_id=p.company_id, version=p.version,
        name=f"{p.first_name} {p.last_name}".strip(), email=p.email, phone=p.phone,
        deleted=isinstance(p, ContactUpdatedV1) and p.deleted,
    )


HANDLERS: dict[tuple[str, int], Handler] = {
    # Won deals arrive in bulk (a sales push, a backlog after downtime): runs of them are handled set-based.
    ("deal.won", 1): BatchingHandler(one=on_deal_won, batch=projects_from_won_deals),
    ("company.created", 1): on_company_changed,
    ("company.updated", 1): on_company_changed,
    ("contact.created", 1): on_contact_changed,
    ("contact.updated", 1): on_contact_changed,
}
CONSUMED_TOPICS = ["crm.deal.events", "crm.account.events"]
