"""Pure CRM rules without the stack: the lead score, the capture rate limiter, CSV parsing, and the HTTP spelling of
every stored status agreeing with its StrEnum."""

from enum import StrEnum
from typing import Any, get_args

import pytest

from crm.activities.models import ActivityKind
from crm.activities.schemas import Kind
from crm.automation.models import Trigger
from crm.automation.schemas import SETTABLE_LEAD_STATUSES, TriggerName
from crm.csvio.service import parse
from crm.deals.models import DealStatus
from crm.deals.schemas import DealStatusName
from crm.leads.capture import RateLimiter, TooManyRequests
from crm.leads.models import AssignmentStrategy, LeadStatus
from crm.leads.schemas import LeadStatusName, OpenStatus, StrategyName
from crm.leads.scoring import score
from crm.mail.models import ConsentStatus, Direction, MailState
from crm.mail.schemas import ConsentName, DirectionName, MailStateName
from crm.pipelines.models import StageKind
from crm.pipelines.schemas import StageKindName
from crm.sequences.models import EnrolmentStatus, StepKind
from crm.sequences.schemas import EnrolmentStatusName, StepKindName
from crm.tasks.models import TaskStatus
from crm.tasks.schemas import TaskStatusName
from throughline_platform.problems import Unprocessable


def test_score_rules_and_cap() -> None:
    total, reasons = score(source="referral", company_size=5000, email="a@corp.example", phone="1",
                           message="x" * 30, activities=10)
    assert [r["factor"] for r in reasons] == ["source", "company_size", "email", "phone", "message", "engagement"]
    assert sum(r["points"] for r in reasons) == 30 + 25 + 10 + 5 + 5 + 20
    assert total == 95
    low, low_reasons = score(source="other", company_size=None, email="a@gmail.com", phone=None, message="hi",
                             activities=0)
    assert low == 5 and {r["factor"]: r["points"] for r in low_reasons}["email"] == 0
    boundaries = [score(source="other", company_size=n, email=None, phone=None, message=None, activities=0)[0]
                  for n in (9, 10, 49, 50, 249, 250)]
    assert boundaries == [10, 15, 15, 25, 25, 30]


def test_rate_limiter_refills_over_time_per_key() -> None:
    limiter = RateLimiter()
    for _ in range(3):
        limiter.take("k", 3, now=100.0)
    with pytest.raises(TooManyRequests) as refused:
        limiter.take("k", 3, now=100.0)
    assert refused.value.extensions["retry_after"] == 20  # one token every 20 s at 3 a minute
    limiter.take("other", 3, now=100.0)  # its own bucket
    limiter.take("k", 3, now=120.0)  # refilled one token
    with pytest.raises(TooManyRequests):
        limiter.take("k", 3, now=120.0)


def test_csv_parse_rows_lines_and_refusals() -> None:
    rows = parse("companies", b"\xef\xbb\xbfName,Domain,id\nA,a.example,ignored\n\nB\n")
    assert rows[0] == (2, {"name": "A", "domain": "a.example"})  # BOM and header case tolerated, id ignored
    assert rows[1][0] == 4 and "__error__" in rows[1][1]
    with pytest.raises(Unprocessable, match="Malformed CSV"):
        parse("companies", b'name\n"unclosed\n')
    with pytest.raises(Unprocessable, match="Unknown columns"):
        parse("deals", b"title,amount,currency,colour\n")


@pytest.mark.parametrize(("spelled", "enum"), [
    (DealStatusName, DealStatus), (StageKindName, StageKind), (TaskStatusName, TaskStatus),
    (LeadStatusName, LeadStatus), (StrategyName, AssignmentStrategy), (TriggerName, Trigger), (Kind, ActivityKind),
    (ConsentName, ConsentStatus), (DirectionName, Direction), (MailStateName, MailState), (StepKindName, StepKind),
    (EnrolmentStatusName, EnrolmentStatus),
])
def test_the_http_spelling_of_each_status_is_its_enum(spelled: Any, enum: type[StrEnum]) -> None:
    """The schemas spell the stored values as Literals (inline enums in the OpenAPI document); the code that reads
    stored rows compares with the models' StrEnums. Both must name the same values, in the same order."""
    assert get_args(spelled) == tuple(member.value for member in enum)


def test_the_statuses_a_patch_or_a_rule_may_set_are_lead_statuses() -> None:
    assert set(get_args(OpenStatus)) == set(LeadStatus) - {LeadStatus.CONVERTED}
    assert set(SETTABLE_LEAD_STATUSES) == set(LeadStatus) - {LeadStatus.DISQUALIFIED, LeadStatus.CONVERTED}
