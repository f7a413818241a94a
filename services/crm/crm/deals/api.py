"""What the rest of the CRM uses of deals: the deal and its status, looking deals up, opening one (lead conversion,
CSV import), the deal as automation rules see it (idle-deal scan), and the answers to the questions companies and
pipelines ask through their ports (crm/ports.py)."""

from crm.deals.models import Deal, DealStatus
from crm.deals.repository import DealRepository
from crm.deals.schemas import BillingInput, DealIn
from crm.deals.service import add_deal, company_has_open_deals, open_deals_in_stage, rule_target, win_on_quote

__all__ = [
    "BillingInput",
    "Deal",
    "DealIn",
    "DealRepository",
    "DealStatus",
    "add_deal",
    "company_has_open_deals",
    "open_deals_in_stage",
    "rule_target",
    "win_on_quote",
]
