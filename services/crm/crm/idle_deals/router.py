from fastapi import APIRouter

from crm.idle_deals import service
from crm.idle_deals.schemas import RunIn, RunOut
from crm.policy import AutomationRunner
from throughline_messaging.deps import UoW

router = APIRouter(prefix="/api/crm", tags=["automation"])


@router.post("/automation-runs", response_model=RunOut,
             summary="Evaluate the time-based rules now (the scheduler does this on its own every interval)")
async def run_rules(uow: UoW, principal: AutomationRunner, body: RunIn | None = None) -> RunOut:
    as_of, fired = await service.run_now(uow, body.as_of if body else None)
    return RunOut(as_of=as_of, fired=fired)
