"""Pure CRM rules without the stack: the lead score, the capture rate limiter, CSV parsing."""

import pytest

from crm.csvio.service import parse
from crm.leads.capture import RateLimiter, TooManyRequests
from crm.leads.scoring import score
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
