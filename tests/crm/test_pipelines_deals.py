"""Custom pipelines and stages, deal updates, stage history with time in stage, reopen rules, win rules."""

from typing import Any

from tests.crm.helpers import suffix
from tests.support import Api, fixed_terms

LOST_STAGE = "00000000-0000-4000-8000-000000000106"
QUALIFIED = "00000000-0000-4000-8000-000000000102"
PROPOSAL = "00000000-0000-4000-8000-000000000103"


def _pipeline(api: Api) -> dict[str, Any]:
    body = {"name": f"Retainers {suffix()}", "stages": [
        {"name": "Discovery", "probability": "20"}, {"name": "Pitch", "probability": "60"},
        {"name": "Signed", "probability": "100", "kind": "won"},
        {"name": "Dropped", "probability": "0", "kind": "lost"},
    ]}
    pipeline: dict[str, Any] = api.ok("POST", "/api/crm/pipelines", 201, json=body)
    return pipeline


def test_custom_pipeline_with_ordered_stages(sales: Api) -> None:
    pipeline = _pipeline(sales)
    assert [(s["name"], s["position"], s["kind"]) for s in pipeline["stages"]] == [
        ("Discovery", 1, "open"), ("Pitch", 2, "open"), ("Signed", 3, "won"), ("Dropped", 4, "lost")]
    pid = pipeline["id"]
    added = sales.ok("POST", f"/api/crm/pipelines/{pid}/stages", 201,
                     json={"name": "Workshop", "probability": "40", "position": 2})
    assert [s["name"] for s in added["stages"]] == ["Discovery", "Workshop", "Pitch", "Signed", "Dropped"]
    workshop = added["stages"][1]["id"]
    moved = sales.ok("PATCH", f"/api/crm/pipelines/{pid}/stages/{workshop}", json={"position": 1, "probability": "15"})
    order = [(s["name"], s["position"]) for s in moved["stages"]][:3]
    assert order == [("Workshop", 1), ("Discovery", 2), ("Pitch", 3)]
    assert moved["stages"][0]["probability"] == "15.00"

    company = sales.new_company()
    deal = sales.new_deal(company["id"], pipeline_id=pid)
    assert deal["stage_id"] == workshop  # the first open stage
    in_use = sales.client.delete(f"/api/crm/pipelines/{pid}/stages/{workshop}")
    assert in_use.status_code == 409 and in_use.json()["open_deals"] == 1
    sales.ok("POST", f"/api/crm/deals/{deal['id']}/stage", json={"stage_id": moved["stages"][1]["id"]})
    removed = sales.ok("DELETE", f"/api/crm/pipelines/{pid}/stages/{workshop}")
    assert [s["name"] for s in removed["stages"]] == ["Discovery", "Pitch", "Signed", "Dropped"]
    assert [s["position"] for s in removed["stages"]] == [1, 2, 3, 4]
    # An archived stage is no longer a target, but history still names it.
    assert sales.post(f"/api/crm/deals/{deal['id']}/stage", json={"stage_id": workshop}).status_code == 422
    history = sales.ok("GET", f"/api/crm/deals/{deal['id']}/stage-history")
    assert [h["to_stage_name"] for h in history["items"]] == ["Workshop", "Discovery"]
    # Another pipeline's stage is refused.
    assert sales.post(f"/api/crm/deals/{deal['id']}/stage", json={"stage_id": PROPOSAL}).status_code == 422


def test_pipeline_validation_and_default(sales: Api, viewer: Api) -> None:
    bad_shapes = [
        [{"name": "A", "probability": "10"}, {"name": "B", "probability": "20"}, {"name": "C", "probability": "0",
                                                                                   "kind": "lost"}],
        [{"name": "A", "probability": "10"}, {"name": "W", "probability": "90", "kind": "won"},
         {"name": "L", "probability": "0", "kind": "lost"}],
        [{"name": "A", "probability": "110"}, {"name": "W", "probability": "100", "kind": "won"},
         {"name": "L", "probability": "0", "kind": "lost"}],
        [{"name": "A", "probability": "10"}, {"name": "a", "probability": "10"},
         {"name": "W", "probability": "100", "kind": "won"}, {"name": "L", "probability": "0", "kind": "lost"}],
    ]
    for stages in bad_shapes:
        response = sales.post("/api/crm/pipelines", json={"name": f"Bad {suffix()}", "stages": stages})
        assert response.status_code == 422, stages
    pipeline = _pipeline(sales)
    clash = sales.post("/api/crm/pipelines", json={"name": pipeline["name"], "stages": [
        {"name": "A", "probability": "10"}, {"name": "W", "probability": "100", "kind": "won"},
        {"name": "L", "probability": "0", "kind": "lost"}]})
    assert clash.status_code == 409
    won_stage = pipeline["stages"][2]["id"]
    assert sales.client.patch(f"/api/crm/pipelines/{pipeline['id']}/stages/{won_stage}",
                              json={"probability": "50"}).status_code == 422
    assert sales.client.delete(f"/api/crm/pipelines/{pipeline['id']}/stages/{won_stage}").status_code == 409
    assert viewer.post("/api/crm/pipelines", json={"name": f"V {suffix()}", "stages": [
        {"name": "A", "probability": "10"}, {"name": "W", "probability": "100", "kind": "won"},
        {"name": "L", "probability": "0", "kind": "lost"}]}).status_code == 403
    default = next(p for p in sales.ok("GET", "/api/crm/pipelines") if p["is_default"])
    assert default["name"] == "Sales"


def test_stage_history_shows_who_when_and_time_in_stage(sales: Api) -> None:
    company = sales.new_company()
    deal = sales.new_deal(company["id"])
    sales.ok("POST", f"/api/crm/deals/{deal['id']}/stage", json={"stage_id": QUALIFIED})
    sales.ok("POST", f"/api/crm/deals/{deal['id']}/stage", json={"stage_id": PROPOSAL})
    history = sales.ok("GET", f"/api/crm/deals/{deal['id']}/stage-history")
    items = history["items"]
    assert [(h["from_stage_name"], h["to_stage_name"]) for h in items] == [
        (None, "Lead in"), ("Lead in", "Qualified"), ("Qualified", "Proposal")]
    assert all(h["changed_by"] == "sales-1" for h in items)
    assert [h["current"] for h in items] == [False, False, True]
    assert all(h["seconds_in_stage"] >= 0 for h in items)
    assert items[1]["seconds_in_previous_stage"] is not None
    assert history["current_stage_id"] == PROPOSAL
    assert items[0]["changed_at"] <= items[1]["changed_at"] <= items[2]["changed_at"]


def test_lost_deals_reopen_won_deals_do_not(sales: Api) -> None:
    company = sales.new_company()
    deal = sales.new_deal(company["id"])
    sales.ok("POST", f"/api/crm/deals/{deal['id']}/stage", json={"stage_id": PROPOSAL})
    lost = sales.ok("POST", f"/api/crm/deals/{deal['id']}/lose", json={"reason": "went quiet"})
    assert lost["status"] == "lost" and lost["stage_id"] == LOST_STAGE
    reopened = sales.ok("POST", f"/api/crm/deals/{deal['id']}/reopen")
    assert reopened["status"] == "open" and reopened["stage_id"] == PROPOSAL  # back where it was lost from
    assert reopened["lost_reason"] is None and reopened["reopened_at"]
    assert sales.post(f"/api/crm/deals/{deal['id']}/reopen").status_code == 409  # open already
    sales.ok("POST", f"/api/crm/deals/{deal['id']}/lose", json={"reason": "again"})
    into = sales.ok("POST", f"/api/crm/deals/{deal['id']}/reopen", json={"stage_id": QUALIFIED})
    assert into["stage_id"] == QUALIFIED

    won = sales.won_deal()
    refused = sales.post(f"/api/crm/deals/{won['id']}/reopen")
    assert refused.status_code == 409 and "project" in refused.json()["detail"]
    assert sales.post(f"/api/crm/deals/{won['id']}/lose", json={"reason": "x"}).status_code == 409


def test_win_checks_retainer_totals_and_update_rules(sales: Api) -> None:
    company = sales.new_company()
    retainer = {"type": "retainer", "amount": "1000.00", "interval": "month", "count": 6, "start_date": "2027-01-01"}
    deal = sales.new_deal(company["id"], amount="5000.00", billing=retainer)
    refused = sales.post(f"/api/crm/deals/{deal['id']}/win")
    assert refused.status_code == 422
    assert "6 x 1000.00 = 6000.00 EUR" in refused.json()["detail"] and "5000.00" in refused.json()["detail"]
    assert sales.ok("GET", f"/api/crm/deals/{deal['id']}")["status"] == "open"
    fixed = sales.ok("PATCH", f"/api/crm/deals/{deal['id']}", json={"amount": "6000.00", "owner_id": "sam",
                                                                     "expected_close_date": "2027-02-28"})
    assert fixed["amount"] == "6000.00" and fixed["owner_id"] == "sam"
    assert sales.ok("POST", f"/api/crm/deals/{deal['id']}/win")["status"] == "won"

    other = sales.new_deal(company["id"], amount="100.00")
    for body in ({"amount": "-1"}, {"currency": "XYZ"}, {"amount": "1.001"}, {"title": None},
                 {"billing": {"type": "fixed", "installments": 0, "start_date": "2027-01-01"}}):
        assert sales.client.patch(f"/api/crm/deals/{other['id']}", json=body).status_code == 422, body
    with_terms = sales.ok("PATCH", f"/api/crm/deals/{other['id']}", json={"billing": fixed_terms(2)})
    assert with_terms["billing"]["installments"] == 2


def test_deal_list_filters_sort_and_pagination(sales: Api) -> None:
    company = sales.new_company()
    amounts = ["300.00", "100.00", "200.00"]
    for amount in amounts:
        sales.new_deal(company["id"], amount=amount, owner_id="filter-owner", expected_close_date="2027-03-15")
    page = sales.ok("GET", "/api/crm/deals", params={"company_id": company["id"], "sort": "amount", "order": "asc",
                                                     "limit": 2})
    assert page["total"] == 3 and [d["amount"] for d in page["items"]] == ["100.00", "200.00"]
    rest = sales.ok("GET", "/api/crm/deals", params={"company_id": company["id"], "sort": "amount", "order": "asc",
                                                     "limit": 2, "offset": 2})
    assert [d["amount"] for d in rest["items"]] == ["300.00"]
    by_owner = sales.ok("GET", "/api/crm/deals", params={"owner_id": "filter-owner", "close_from": "2027-03-01",
                                                         "close_to": "2027-03-31", "status": "open"})
    assert by_owner["total"] >= 3
    assert sales.get("/api/crm/deals", params={"sort": "nonsense"}).status_code == 422
    assert sales.get("/api/crm/deals", params={"stage_id": "not-a-uuid"}).status_code == 422
