"""Cost centers: codes are unique (case-insensitively); a center in use is deactivated, never deleted."""

import uuid

from erp.cost_centers.models import CostCenter
from erp.cost_centers.repository import CostCenterRepository
from erp.cost_centers.schemas import CostCenterIn, CostCenterPatch
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import Conflict, NotFound, Unprocessable


async def create_cost_center(uow: UnitOfWork, body: CostCenterIn) -> CostCenter:
    centers = CostCenterRepository(uow.session)
    if await centers.by_code(body.code) is not None:
        raise Conflict(f"A cost center with code {body.code!r} already exists.")
    center = CostCenter(id=uuid.uuid4(), code=body.code, name=body.name, description=body.description,
                        active=body.active)
    centers.add(center)
    await uow.commit()
    return center


async def update_cost_center(uow: UnitOfWork, center_id: uuid.UUID, body: CostCenterPatch) -> CostCenter:
    centers = CostCenterRepository(uow.session)
    center = await centers.get(center_id)
    if center is None:
        raise NotFound(f"Cost center {center_id} does not exist.")
    changes = body.model_dump(exclude_unset=True)
    for field in ("code", "name", "active"):
        if field in changes and changes[field] is None:
            raise Unprocessable(f"{field} cannot be null.")
    if "code" in changes and changes["code"].lower() != center.code.lower():
        other = await centers.by_code(changes["code"])
        if other is not None:
            raise Conflict(f"A cost center with code {changes['code']!r} already exists.")
    for field, value in changes.items():
        setattr(center, field, value)
    await uow.commit()
    return center


async def get_cost_center(uow: UnitOfWork, center_id: uuid.UUID) -> CostCenter:
    center = await CostCenterRepository(uow.session).get(center_id)
    if center is None:
        raise NotFound(f"Cost center {center_id} does not exist.")
    return center


async def usable_cost_center(uow: UnitOfWork, center_id: uuid.UUID) -> CostCenter:
    """A cost center that new costs or projects may be booked on."""
    center = await CostCenterRepository(uow.session).get(center_id)
    if center is None:
        raise Unprocessable(f"Cost center {center_id} does not exist.", type_slug="unknown-cost-center")
    if not center.active:
        raise Unprocessable(f"Cost center {center.code!r} is inactive.", type_slug="inactive-cost-center")
    return center
