// List filters with saved views (issue 24): one form per list whose values live in the page's address
// (#/leads?owner=mine&status=new), so a filtered list can be bookmarked, shared and saved as a named view
// (/api/views, each person's own). `apiQuery` turns the address's filters into the service's query parameters.

import { api, itemsOf, optional } from "../api.js";
import { h, field, select, formDialog, confirmDialog, toast, announce } from "../ui.js";
import { DATE_BOUNDS } from "./common.js";

// Each field: { key, label, kind: "owner" | "select" | "date" | "amount", options } (options: [[value, text]]).
export function filterValues(ctx, fields) {
  const values = {};
  for (const f of fields) {
    const v = ctx.query.get(f.key);
    if (v !== null && v !== "") values[f.key] = v;
  }
  return values;
}

// The service's parameters for the filters: "owner=mine" is the caller's id; the rest pass as they are.
export function apiQuery(ctx, values, rename = {}) {
  const query = {};
  for (const [key, value] of Object.entries(values)) {
    if (key === "owner") { if (value === "mine") query.owner_id = ctx.me.id; continue; }
    query[rename[key] || key] = value;
  }
  return query;
}

function control(f, value) {
  const id = `filter-${f.key.replace(/_/g, "-")}`;
  if (f.kind === "owner") return select({ id, name: f.key }, [["", "Everyone"], ["mine", "Mine"]], value || "");
  if (f.kind === "select") return select({ id, name: f.key }, f.options, value || "");
  if (f.kind === "date") return h("input", { id, name: f.key, type: "date", value: value || "", ...DATE_BOUNDS });
  return h("input", { id, name: f.key, inputmode: "decimal", pattern: "[0-9]+([.][0-9]{1,4})?", value: value || "", size: 10,
    title: "A number, e.g. 5000 or 5000.50" });
}

// A range whose start lies after its end (the services answer 422 too): [start field, end field] or null.
function reversedRange(fields, chosen) {
  for (const start of fields) {
    const end = fields.find((f) => f.key === start.key.replace(/_from$/, "_to").replace(/_min$/, "_max"));
    if (!end || end === start || chosen[start.key] === undefined || chosen[end.key] === undefined) continue;
    const [a, b] = start.kind === "date" ? [chosen[start.key], chosen[end.key]] : [Number(chosen[start.key]), Number(chosen[end.key])];
    if (a > b) return [start, end];
  }
  return null;
}

// The form and the saved-view picker. `path` is the list's route; `base` keeps parameters that are not filters.
export async function filterBar(ctx, { list, path, fields, base = {} }) {
  const values = filterValues(ctx, fields);
  const views = itemsOf(await optional(api("/api/views", { query: { list } })) || { items: [] });
  const current = ctx.query.get("view") || "";
  const go = (filters, viewId = "") => {
    const params = new URLSearchParams({ ...base, ...filters });
    if (viewId) params.set("view", viewId);
    const text = params.toString();
    ctx.navigate(text ? `${path}?${text}` : path);
  };
  const form = h("form", { class: "filters", "aria-label": "Filters" },
    fields.map((f) => field(f.label, control(f, values[f.key]))),
    h("div", { class: "actions" },
      h("button", { type: "submit" }, "Apply filters"),
      h("button", { type: "button", class: "secondary", onclick: () => go({}) }, "Clear")));
  const problem = h("div", { "aria-live": "assertive", class: "filter-problem" });
  form.append(problem);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    problem.replaceChildren();
    if (!form.reportValidity()) return;
    const chosen = Object.fromEntries([...new FormData(form)].filter(([, v]) => v !== ""));
    const wrong = reversedRange(fields, chosen);
    if (wrong) {
      problem.replaceChildren(h("p", { class: "error", role: "alert" }, `“${wrong[0].label}” lies after “${wrong[1].label}”.`));
      form.querySelector(`[name="${wrong[0].key}"]`)?.focus();
      return;
    }
    go(chosen);
  });

  const picker = select({ id: `views-${list}`, name: "view" },
    [["", views.length ? "Choose a saved view" : "No saved views yet"], ...views.map((v) => [v.id, v.name])], current);
  picker.addEventListener("change", () => {
    const view = views.find((v) => v.id === picker.value);
    if (view) go(view.filters, view.id);
    else go(values);
  });
  const save = h("button", { type: "button", class: "secondary", onclick: async () => {
    const saved = await formDialog({
      title: "Save these filters as a view",
      submitLabel: "Save view",
      build: (body) => body.append(field("Name", { name: "name", required: true, maxlength: 100 }),
        h("p", { class: "muted small" }, Object.keys(values).length
          ? `Filters: ${Object.entries(values).map(([k, v]) => `${k.replace(/_/g, " ")} ${v}`).join(", ")}`
          : "No filter is set: the view shows the whole list.")),
      submit: (data) => api("/api/views", { method: "POST", json: { list, name: data.name.trim(), filters: values } }),
    });
    if (saved) { toast(`View “${saved.name}” saved.`, "good"); announce(`View ${saved.name} saved`); go(values, saved.id); }
  } }, "Save view");
  const chosenView = views.find((v) => v.id === current);
  const remove = chosenView ? h("button", { type: "button", class: "secondary", onclick: async () => {
    if (!(await confirmDialog(`Delete the view “${chosenView.name}”?`, "Delete view"))) return;
    await api(`/api/views/${chosenView.id}`, { method: "DELETE" });
    toast(`View “${chosenView.name}” deleted.`);
    go(values);
  } }, "Delete view") : null;
  const bar = h("div", { class: "saved-views" }, field("Saved view", picker), h("div", { class: "actions" }, save, remove));
  return { element: h("div", { class: "filter-area" }, bar, form), values };
}
