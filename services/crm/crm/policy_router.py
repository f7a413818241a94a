"""`GET /api/crm/policy`: the CRM's action table (crm/policy.py), for the gateway and the web app."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

from crm.policy import POLICY, Reader

router = APIRouter(prefix="/api/crm", tags=["policy"])


class PolicyOut(BaseModel):
    service: str = Field(description="Whose actions these are")
    actions: dict[str, list[str]] = Field(description="Action -> the roles that may do it (admin always may)")


@router.get("/policy", response_model=PolicyOut, summary="Which roles may do which CRM action")
async def get_policy(principal: Reader) -> PolicyOut:
    return PolicyOut(service=POLICY.service, actions=POLICY.as_table())
