import uuid
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from throughline_events.types import DecimalInput

# The values of models.StageKind as the HTTP API spells them (tests/crm/test_rules_unit.py keeps them in step).
StageKindName = Literal["open", "won", "lost"]


class StageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    position: int
    probability: Decimal
    kind: str


class PipelineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    is_default: bool
    stages: list[StageOut]




class StageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100)
    probability: DecimalInput = Field(ge=0, le=100, max_digits=5, decimal_places=2)
    kind: StageKindName = "open"


class PipelineIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100)
    is_default: bool = False
    stages: list[StageIn] = Field(min_length=3, max_length=30,
                                  description="In order: open stages, one won stage (100 %), one lost stage (0 %)")

    @model_validator(mode="after")
    def _shape(self) -> "PipelineIn":
        kinds = [s.kind for s in self.stages]
        if kinds.count("won") != 1 or kinds.count("lost") != 1 or "open" not in kinds:
            raise ValueError("a pipeline has at least one open stage, exactly one won and exactly one lost stage")
        names = [s.name.lower() for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError("stage names must be unique within a pipeline")
        for s in self.stages:
            if s.kind == "won" and s.probability != 100:
                raise ValueError("the won stage has probability 100")
            if s.kind == "lost" and s.probability != 0:
                raise ValueError("the lost stage has probability 0")
        return self


class PipelinePatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str | None = Field(None, min_length=1, max_length=100)
    is_default: Literal[True] | None = Field(None, description="Make this the default pipeline")


class NewStageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=100)
    probability: DecimalInput = Field(ge=0, le=100, max_digits=5, decimal_places=2)
    position: int | None = Field(None, ge=1, description="1-based among the open stages; default: after the last")


class StagePatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str | None = Field(None, min_length=1, max_length=100)
    probability: DecimalInput | None = Field(None, ge=0, le=100, max_digits=5, decimal_places=2)
    position: int | None = Field(None, ge=1, description="1-based among the open stages")
