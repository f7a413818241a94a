"""The costs rules that need no database: categorisation, periods, capacity in force. (Recognised revenue is
computed in SQL since the report pages in the database: tests/erp_costs/test_reports.py covers it.)"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from erp.expenses.categorise import matching_rule
from erp.reports.service import capacity_on, percent, periods
from throughline_events.money import check_amount


@dataclass(frozen=True)
class Rule:
    field: str
    pattern: str
    priority: int = 100


def test_rules_match_whole_words_in_their_field_by_priority_then_length() -> None:
    rules = [Rule("any", "inn"), Rule("any", "dinner"), Rule("merchant", "aws"), Rule("description", "uber"),
             Rule("merchant", "google cloud", 100), Rule("merchant", "google", 50)]
    assert matching_rule(rules, "Chez Paul", "team DINNER") == Rule("any", "dinner")
    assert matching_rule(rules, "Laws & Partners", None) is None
    assert matching_rule(rules, "AWS EMEA SARL", None) == Rule("merchant", "aws")
    assert matching_rule(rules, "Uber BV", None) is None  # the rule looks at the description only
    assert matching_rule(rules, None, "uber to the airport") == Rule("description", "uber")
    assert matching_rule(rules, "Google Cloud EMEA", None) == Rule("merchant", "google", 50)  # priority first
    assert matching_rule([Rule("any", "google cloud"), Rule("any", "google")], "Google Cloud", None) == Rule(
        "any", "google cloud")  # then the most specific


def test_check_money_refuses_unknown_currencies_and_extra_decimals() -> None:
    assert check_amount(Decimal("10.5"), "EUR") == Decimal("10.50")
    assert check_amount(Decimal("1500"), "JPY") == Decimal("1500")
    for amount, currency, words in ((Decimal("1.005"), "EUR", "more decimals"), (Decimal("1.5"), "JPY", "JPY"),
                                    (Decimal("1"), "XYZ", "ISO 4217"), (Decimal("NaN"), "EUR", "finite")):
        with pytest.raises(ValueError, match=words):
            check_amount(amount, currency)


def test_periods_capacity_and_percent() -> None:
    assert periods(date(2026, 11, 27), date(2026, 12, 8), "week") == [
        (date(2026, 11, 23), date(2026, 11, 29)), (date(2026, 11, 30), date(2026, 12, 6)),
        (date(2026, 12, 7), date(2026, 12, 13))]
    assert periods(date(2026, 12, 15), date(2027, 1, 2), "month") == [
        (date(2026, 12, 1), date(2026, 12, 31)), (date(2027, 1, 1), date(2027, 1, 31))]
    series = [(date(2026, 1, 1), Decimal(40)), (date(2026, 3, 16), Decimal(20))]
    assert capacity_on(series, date(2025, 12, 29)) is None
    assert capacity_on(series, date(2026, 3, 9)) == 40 and capacity_on(series, date(2026, 3, 16)) == 20
    assert percent(Decimal(1), Decimal(3)) == Decimal("33.33") and percent(Decimal(1), Decimal(0)) is None
