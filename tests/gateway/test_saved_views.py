"""Saved views through the gateway (issue 24): a person's named filters per list, theirs alone."""

import uuid

from devstack.stack import Stack
from tests.gateway.helpers import assert_problem, client, gateway_url, token_for


def test_saved_views_are_crud_and_owner_only(stack: Stack) -> None:
    base = gateway_url(stack)
    mine = client(base, token=token_for(stack, "sales", user_id=str(uuid.uuid4())))
    theirs = client(base, token=token_for(stack, "finance", user_id=str(uuid.uuid4())))
    with mine, theirs:
        created = mine.post("/api/views", json={"list": "pipeline", "name": "My big deals",
                                                 "filters": {"owner": "mine", "amount_min": "10000"}})
        assert created.status_code == 201, created.text
        view = created.json()
        assert view == {**view, "list": "pipeline", "name": "My big deals",
                        "filters": {"owner": "mine", "amount_min": "10000"}}
        assert_problem(mine.post("/api/views", json={"list": "pipeline", "name": "My big deals", "filters": {}}), 409)
        # The same name on another list is another view.
        assert mine.post("/api/views", json={"list": "leads", "name": "My big deals", "filters": {}}).status_code == 201
        listed = mine.get("/api/views", params={"list": "pipeline"}).json()["items"]
        assert [v["id"] for v in listed] == [view["id"]]
        assert len(mine.get("/api/views").json()["items"]) == 2

        # Nobody else sees, changes or deletes it: 404, as if it did not exist.
        assert theirs.get("/api/views").json()["items"] == []
        assert_problem(theirs.get(f"/api/views/{view['id']}"), 404)
        assert_problem(theirs.patch(f"/api/views/{view['id']}", json={"name": "Stolen"}), 404)
        assert_problem(theirs.delete(f"/api/views/{view['id']}"), 404)

        renamed = mine.patch(f"/api/views/{view['id']}", json={"name": "Big deals", "filters": {"owner": "mine"}})
        assert renamed.status_code == 200 and renamed.json()["name"] == "Big deals"
        assert mine.get(f"/api/views/{view['id']}").json()["filters"] == {"owner": "mine"}
        assert mine.delete(f"/api/views/{view['id']}").status_code == 204
        assert_problem(mine.get(f"/api/views/{view['id']}"), 404)


def test_saved_view_input_is_checked(stack: Stack) -> None:
    with client(gateway_url(stack), token=token_for(stack, "viewer")) as api:
        for body in ({"list": "nowhere", "name": "x", "filters": {}},
                     {"list": "leads", "name": "", "filters": {}},
                     {"list": "leads", "name": "x", "filters": {"Bad Key": "1"}},
                     {"list": "leads", "name": "x", "filters": {"status": 5}},
                     {"list": "leads", "name": "x", "filters": {f"k{i}": "1" for i in range(21)}},
                     {"list": "leads", "name": "x", "filters": {}, "owner_id": "someone"}):
            assert_problem(api.post("/api/views", json=body), 422)
        assert_problem(api.get("/api/views", params={"list": "nowhere"}), 422)
        assert_problem(api.get("/api/views/not-a-uuid"), 422)
    assert_problem(client(gateway_url(stack)).get("/api/views"), 401)
