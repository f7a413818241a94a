from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from throughline_events.types import BusinessDateTime


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: BusinessDateTime | None = Field(None, description="Default: now; not in the future")


class RunOut(BaseModel):
    as_of: datetime
    fired: int
