"""Cost centers, and projects entered and changed by hand: the rules and who may apply them."""

import uuid
from decimal import Decimal

from devstack.stack import Stack
from tests.erp_costs.helpers import RoleApi, as_role, new_client, new_cost_center, new_project, scalar, suffix


def test_cost_centers_crud_unique_codes_and_roles(stack: Stack, boss: RoleApi) -> None:
    finance, sales, viewer = as_role(stack, "finance"), as_role(stack, "sales"), as_role(stack, "viewer")
    code = f"OPS-{suffix()}"
    center = finance.ok("POST", "/api/erp/cost-centers", 201, json={"code": code, "name": "Operations"})
    assert center["active"] is True and center["code"] == code

    duplicate = finance.post("/api/erp/cost-centers", json={"code": code.lower(), "name": "Again"})
    assert duplicate.status_code == 409 and code.lower() in duplicate.json()["detail"]
    assert sales.post("/api/erp/cost-centers", json={"code": f"X-{suffix()}", "name": "X"}).status_code == 403
    assert finance.post("/api/erp/cost-centers", json={"code": "", "name": "X"}).status_code == 422
    assert scalar(stack, f"SELECT count(*) FROM cost_centers WHERE lower(code) = lower('{code}')") == "1"

    assert viewer.ok("GET", f"/api/erp/cost-centers/{center['id']}")["name"] == "Operations"
    assert viewer.patch(f"/api/erp/cost-centers/{center['id']}", json={"active": False}).status_code == 403
    changed = finance.ok("PATCH", f"/api/erp/cost-centers/{center['id']}", json={"active": False, "name": "Ops"})
    assert changed["active"] is False and changed["name"] == "Ops"
    inactive = viewer.ok("GET", "/api/erp/cost-centers", params={"active": "false", "q": code})
    assert [c["id"] for c in inactive["items"]] == [center["id"]] and inactive["total"] == 1
    assert viewer.ok("GET", "/api/erp/cost-centers", params={"active": "true", "q": code})["total"] == 0
    assert finance.get(f"/api/erp/cost-centers/{uuid.uuid4()}").status_code == 404


def test_project_by_hand_with_budget_and_cost_center(stack: Stack, boss: RoleApi) -> None:
    pm = as_role(stack, "project_manager")
    client = new_client(boss, stack, currency="EUR")
    center = new_cost_center(boss)
    project = new_project(pm, client["id"], budget_amount="25000.50", budget_hours="180.5",
                          cost_center_id=center["id"], owner_id="pm-1")
    assert project["currency"] == "EUR" and project["status"] == "active" and project["deal_id"] is None
    assert Decimal(project["budget_amount"]) == Decimal("25000.50")
    assert Decimal(project["budget_hours"]) == Decimal("180.5")
    assert project["cost_center_id"] == center["id"]
    # The CRM hears about it like about any other project.
    assert scalar(stack, f"SELECT event_type FROM outbox WHERE message_key = '{project['id']}'") == "project.created"
    listed = pm.ok("GET", "/api/erp/projects", params={"cost_center_id": center["id"]})
    assert [p["id"] for p in listed["items"]] == [project["id"]]


def test_project_bad_input_is_refused_and_nothing_is_written(stack: Stack, boss: RoleApi) -> None:
    pm, sales = as_role(stack, "project_manager"), as_role(stack, "sales")
    client = new_client(boss, stack, currency="JPY")
    inactive = new_cost_center(boss)
    boss.ok("PATCH", f"/api/erp/cost-centers/{inactive['id']}", json={"active": False})
    name = f"Refused {suffix()}"
    cases = [
        ({"budget_amount": "-1"}, 422, "budget_amount"),
        ({"budget_amount": "10.5"}, 422, "more decimals than JPY"),
        ({"currency": "XXX"}, 422, "ISO 4217"),
        ({"cost_center_id": inactive["id"]}, 422, "inactive"),
        ({"client_id": "00000000-0000-4000-8000-00000000dead"}, 422, "does not exist"),
        ({"status": "archived"}, 422, "status"),
        ({"budget_hours": "-3"}, 422, "budget_hours"),
    ]
    for fields, status, words in cases:
        body = {"name": name, "client_id": client["id"], "budget_amount": "1000", **fields}
        response = pm.post("/api/erp/projects", json=body)
        assert response.status_code == status, (fields, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert words in response.json()["detail"], (fields, response.json())
    assert sales.post("/api/erp/projects", json={"name": name, "client_id": client["id"]}).status_code == 403
    assert scalar(stack, f"SELECT count(*) FROM projects WHERE name = '{name}'") == "0"
    # A JPY client's project is in whole yen.
    assert new_project(pm, client["id"], budget_amount="1500000")["currency"] == "JPY"


def test_project_status_lifecycle_and_patch_rules(stack: Stack, boss: RoleApi) -> None:
    pm, finance, sales = as_role(stack, "project_manager"), as_role(stack, "finance"), as_role(stack, "sales")
    client = new_client(boss, stack)
    project = new_project(pm, client["id"])
    path = f"/api/erp/projects/{project['id']}"
    assert pm.ok("PATCH", path, json={"status": "on_hold"})["status"] == "on_hold"
    assert finance.ok("PATCH", path, json={"status": "completed"})["status"] == "completed"
    reopened = pm.ok("PATCH", path, json={"status": "active", "budget_amount": "12000.00", "budget_hours": "120"})
    assert reopened["status"] == "active" and Decimal(reopened["budget_amount"]) == Decimal("12000.00")
    assert sales.patch(path, json={"status": "on_hold"}).status_code == 403
    assert pm.patch(path, json={"budget_amount": "1.001"}).status_code == 422
    assert pm.patch(path, json={"status": None}).status_code == 422
    assert pm.ok("PATCH", path, json={"status": "cancelled"})["status"] == "cancelled"
    refused = pm.patch(path, json={"status": "active", "name": "Back from the dead"})
    assert refused.status_code == 409 and "cancelled" in refused.json()["detail"]
    after = pm.ok("GET", path)
    assert after["status"] == "cancelled" and after["name"] == project["name"]  # nothing half-written
    assert pm.patch("/api/erp/projects/00000000-0000-4000-8000-00000000dead", json={"name": "x"}).status_code == 404
