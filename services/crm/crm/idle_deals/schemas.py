from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: AwareDatetime | None = Field(None, description="Default: now; not in the future")


class RunOut(BaseModel):
    as_of: datetime
    fired: int
