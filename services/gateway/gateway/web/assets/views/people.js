// People (issue 23): the ERP's directory of the gateway's users: department, cost center, weekly capacity, list and
// cost rates (each a dated series). Everyone reads it; cost rates show only to finance, admin and the person
// themselves (the server leaves them out otherwise); finance and admin change a person.

import { api, all, optional, itemsOf, ApiError } from "../api.js";
import { h, field, money, date, badge, formDialog, toast, table, isoDate, label } from "../ui.js";
import { pageHead } from "./common.js";

function rate(r) { return r ? money(r.hourly_rate, r.currency) : "—"; }
function capacity(c) { return c ? `${Number(c.hours_per_week)} h/week` : "—"; }

async function costCenters() {
  const rows = await optional(all("/api/erp/cost-centers", {}, 500)) || [];
  return Object.fromEntries(rows.map((c) => [c.id, c]));
}

export async function peopleView(root, ctx) {
  const q = ctx.query.get("q") || "";
  const shown = ctx.query.get("active") || "true";
  const [page, centers] = await Promise.all([
    api("/api/erp/people", { query: { q: q || undefined, active: shown === "all" ? undefined : shown, limit: 200 } }),
    costCenters(),
  ]);
  const people = itemsOf(page);
  const search = h("input", { id: "people-q", type: "search", value: q, placeholder: "Name or email" });
  const which = h("select", { id: "people-active" },
    [["true", "Active"], ["false", "Deactivated"], ["all", "Everyone"]].map(([v, t]) => h("option", { value: v, selected: v === shown }, t)));
  const filters = h("form", { class: "filters", role: "search", "aria-label": "Find people" },
    field("Find", search), field("Show", which), h("button", { type: "submit", class: "secondary" }, "Find"));
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    ctx.navigate(`/people?q=${encodeURIComponent(search.value.trim())}&active=${which.value}`);
  });
  const seesCost = people.some((p) => p.cost_rate_visible);
  root.append(pageHead("People"),
    h("p", { class: "muted" }, "Everyone who logs in is a person here (an admin adds them under Setup, Users). Time and expenses are booked for active people only."),
    filters,
    table([
      { label: "Name", value: (p) => h("a", { href: `#/people/${p.id}` }, p.name) },
      { label: "Email", value: (p) => p.email },
      { label: "Role", value: (p) => label(p.role) },
      { label: "Department", value: (p) => p.department || "—" },
      { label: "Cost center", value: (p) => (p.cost_center_id ? centers[p.cost_center_id]?.name || "—" : "—") },
      { label: "Capacity", value: (p) => capacity(p.weekly_capacity), num: true },
      { label: "List rate", value: (p) => rate(p.list_rate), num: true },
      ...(seesCost ? [{ label: "Cost rate", value: (p) => (p.cost_rate_visible ? rate(p.cost_rate) : "—"), num: true }] : []),
      { label: "Status", value: (p) => badge(p.active ? "active" : "inactive") },
    ], people, { caption: "People", empty: q ? "Nobody matches." : "Nobody here yet." }));
  return { events: [] };
}

function history(title, id, rows, value) {
  return h("section", { class: "panel", "aria-labelledby": id }, h("h2", { id }, title),
    table([
      { label: "From", value: (r) => date(r.effective_from) },
      { label: "Value", value, num: true },
    ], rows, { caption: title, empty: "None set." }));
}

// Only what was filled in is sent: an empty rate leaves that series as it is.
function changes(data) {
  const body = { department: data.department.trim(), cost_center_id: data.cost_center_id || null };
  const from = data.effective_from;
  if (data.hours_per_week !== "") body.weekly_capacity = { hours_per_week: data.hours_per_week, effective_from: from };
  if (data.list_rate !== "") body.list_rate = { hourly_rate: data.list_rate, currency: data.currency, effective_from: from };
  if (data.cost_rate !== undefined && data.cost_rate !== "") body.cost_rate = { hourly_rate: data.cost_rate, currency: data.currency, effective_from: from };
  return body;
}

function editDialog(person, centers) {
  const currency = person.list_rate?.currency || person.cost_rate?.currency || "EUR";
  return formDialog({
    title: `Change ${person.name}`,
    build: (body) => body.append(
      field("Department", { name: "department", value: person.department || "", maxlength: 100 }),
      field("Cost center", h("select", { name: "cost_center_id" }, h("option", { value: "" }, "None"),
        Object.values(centers).filter((c) => c.active || c.id === person.cost_center_id)
          .map((c) => h("option", { value: c.id, selected: c.id === person.cost_center_id }, `${c.code} · ${c.name}`)))),
      h("p", { class: "muted" }, "A new capacity or rate applies from the date below on; earlier ones stay in the history."),
      field("From", { name: "effective_from", type: "date", required: true, value: isoDate() }),
      field("Weekly capacity (hours)", { name: "hours_per_week", type: "number", min: 0, max: 168, step: "0.25", inputmode: "decimal" }, "leave empty to keep it"),
      field("Currency", { name: "currency", value: currency, required: true, pattern: "[A-Z]{3}", maxlength: 3 }),
      field("List rate per hour", { name: "list_rate", type: "number", min: 0, step: "0.01", inputmode: "decimal" }, "leave empty to keep it"),
      field("Cost rate per hour", { name: "cost_rate", type: "number", min: 0, step: "0.01", inputmode: "decimal" }, "leave empty to keep it")),
    submit: async (data) => {
      const saved = await api(`/api/erp/people/${person.id}`, { method: "PATCH", json: changes(data) });
      toast(`${person.name} saved.`);
      return saved;
    },
  });
}

export async function personView(root, ctx) {
  const [id] = ctx.params;
  let person;
  try {
    person = await api(`/api/erp/people/${encodeURIComponent(id)}`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      root.append(pageHead("Person not found"), h("p", {}, "Nobody has this id. ", h("a", { href: "#/people" }, "Back to people.")));
      return { events: [] };
    }
    throw error;
  }
  const centers = await costCenters();
  const center = person.cost_center_id ? centers[person.cost_center_id] : null;
  const edit = ctx.can("erp.people.write")
    ? h("button", { type: "button", onclick: async () => { if (await editDialog(person, centers)) ctx.refresh(); } }, "Edit")
    : null;
  root.append(pageHead(person.name, edit),
    h("section", { class: "panel", "aria-labelledby": "person-facts" }, h("h2", { id: "person-facts" }, "Person"),
      h("dl", { class: "facts" },
        h("dt", {}, "Email"), h("dd", {}, person.email),
        h("dt", {}, "Role"), h("dd", {}, label(person.role)),
        h("dt", {}, "Status"), h("dd", {}, badge(person.active ? "active" : "inactive")),
        h("dt", {}, "Department"), h("dd", { "data-testid": "person-department" }, person.department || "—"),
        h("dt", {}, "Cost center"), h("dd", {}, center ? `${center.code} · ${center.name}` : "—"),
        h("dt", {}, "Weekly capacity"), h("dd", { "data-testid": "person-capacity" }, capacity(person.weekly_capacity)),
        h("dt", {}, "List rate"), h("dd", { "data-testid": "person-list-rate" }, rate(person.list_rate)),
        ...(person.cost_rate_visible ? [h("dt", {}, "Cost rate"), h("dd", { "data-testid": "person-cost-rate" }, rate(person.cost_rate))] : []))),
    h("div", { class: "grid-2" },
      history("Capacity history", "person-capacities", person.capacity_history, capacity),
      history("List rate history", "person-list-rates", person.list_rate_history, rate),
      person.cost_rate_visible ? history("Cost rate history", "person-cost-rates", person.cost_rate_history, rate) : null));
  return { events: [] };
}
