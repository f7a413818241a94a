"""What the rest of the CRM uses of pipelines: stages and their kinds (a deal sits in a stage), looking them up,
and the port deals answer (`open_deals_in_stage`, connected by crm.app)."""

from crm.pipelines.models import Pipeline, Stage, StageKind
from crm.pipelines.repository import PipelineRepository
from crm.pipelines.service import open_deals_in_stage

__all__ = ["Pipeline", "PipelineRepository", "Stage", "StageKind", "open_deals_in_stage"]
