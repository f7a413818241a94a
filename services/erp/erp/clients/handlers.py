"""CRM company and contact events -> the client replica. The consumer's inbox already makes each effect happen
once; the versions make the order of arrival irrelevant (see `replica`), and a version implausibly far ahead is
dead-lettered, not applied."""

from erp.clients.replica import ImplausibleVersion, apply_company_state, apply_contact_state
from erp.clients.repository import ClientRepository
from throughline_events.crm import CompanyCreatedV1, CompanyUpdatedV1, ContactCreatedV1, ContactUpdatedV1
from throughline_messaging.consumer import EventRefused, HandlerContext


async def on_company_changed(ctx: HandlerContext) -> None:
    p = ctx.payload
    assert isinstance(p, CompanyCreatedV1 | CompanyUpdatedV1)
    try:
        await apply_company_state(
            ClientRepository(ctx.uow.session), company_id=p.company_id, version=p.version, name=p.name,
            email=p.email, phone=p.phone, address=p.address, deleted=isinstance(p, CompanyUpdatedV1) and p.deleted,
        )
    except ImplausibleVersion as exc:
        raise EventRefused("implausible_version", str(exc)) from None


async def on_contact_changed(ctx: HandlerContext) -> None:
    p = ctx.payload
    assert isinstance(p, ContactCreatedV1 | ContactUpdatedV1)
    try:
        await apply_contact_state(
            ClientRepository(ctx.uow.session), contact_id=p.contact_id, company_id=p.company_id, version=p.version,
            name=f"{p.first_name} {p.last_name}".strip(), email=p.email, phone=p.phone,
            deleted=isinstance(p, ContactUpdatedV1) and p.deleted,
        )
    except ImplausibleVersion as exc:
        raise EventRefused("implausible_version", str(exc)) from None
