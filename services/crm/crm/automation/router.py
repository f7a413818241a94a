import uuid

from fastapi import APIRouter, Response

from crm.automation import service
from crm.automation.schemas import FiringOut, RuleIn, RuleOut, RulePatch
from crm.policy import AutomationRuleWriter, Reader
from throughline_messaging.deps import ReadUoW, UoW

router = APIRouter(prefix="/api/crm", tags=["automation"])


@router.post("/automation-rules", status_code=201, response_model=RuleOut, summary="Create an automation rule")
async def create_rule(body: RuleIn, uow: UoW, principal: AutomationRuleWriter) -> RuleOut:
    return RuleOut.model_validate(await service.create_rule(uow, body, principal.user_id))


@router.get("/automation-rules", response_model=list[RuleOut], summary="Automation rules")
async def list_rules(uow: ReadUoW, principal: Reader) -> list[RuleOut]:
    return [RuleOut.model_validate(r) for r in await service.list_rules(uow)]


@router.get("/automation-rules/{rule_id}", response_model=RuleOut, summary="One automation rule")
async def get_rule(rule_id: uuid.UUID, uow: ReadUoW, principal: Reader) -> RuleOut:
    return RuleOut.model_validate(await service.get_rule(uow, rule_id))


@router.patch("/automation-rules/{rule_id}", response_model=RuleOut, summary="Rename, pause or resume a rule")
async def update_rule(rule_id: uuid.UUID, body: RulePatch, uow: UoW, principal: AutomationRuleWriter) -> RuleOut:
    return RuleOut.model_validate(await service.update_rule(uow, rule_id, body))


@router.delete("/automation-rules/{rule_id}", status_code=204, summary="Delete a rule and its firing log")
async def delete_rule(rule_id: uuid.UUID, uow: UoW, principal: AutomationRuleWriter) -> Response:
    await service.delete_rule(uow, rule_id)
    return Response(status_code=204)


@router.get("/automation-rules/{rule_id}/firings", response_model=list[FiringOut],
            summary="When the rule fired, for which records")
async def list_firings(rule_id: uuid.UUID, uow: ReadUoW, principal: Reader,
                       record_id: uuid.UUID | None = None) -> list[FiringOut]:
    return [FiringOut.model_validate(f) for f in await service.firings(uow, rule_id, record_id)]

