// Budgets and efficiency: a project's budget and burn (hours and money, with its alerts, phases and editing), its
// margin on both bases side by side, and the department efficiency report.

import { api, optional, ApiError } from "../api.js";
import { h, field, select, money, date, dateTime, formDialog, toast, table, barList, unavailable, isoDate } from "../ui.js";
import { pageHead } from "./common.js";

function percent(v) { return v === null || v === undefined ? "—" : `${Number(v).toFixed(1)}%`; }
function hours(v) { return v === null || v === undefined ? "—" : `${Number(v).toFixed(2)} h`; }

// A burn bar: what is burnt, and (in the text) the forecast at completion. Over budget is said in words, not colour.
function burnRow(labelText, figures, show) {
  const burnt = figures.burn_percent === null ? null : Number(figures.burn_percent);
  const over = burnt !== null && burnt >= 100;
  return { label: labelText, value: Math.min(100, burnt || 0), tone: over ? "bad" : "",
    text: figures.budget === null || Number(figures.budget) === 0
      ? `${show(figures.actual)} · no budget`
      : `${show(figures.actual)} of ${show(figures.budget)} · ${percent(burnt)}${over ? " (over budget)" : ""} · forecast ${percent(figures.forecast_percent)}` };
}

function editBudgetDialog(project, budget, ctx) {
  return formDialog({
    title: `Budget of ${project.name}`,
    build: (body) => body.append(
      field("Budget hours", { name: "budget_hours", type: "number", min: "0", step: "0.01", value: budget.hours.budget ?? "" }, "leave empty for no hours budget"),
      field(`Budget amount (${budget.currency})`, { name: "budget_amount", type: "number", min: "0", step: "0.01", required: true, value: budget.money.budget ?? "0" }),
      field("Alert thresholds (%)", { name: "thresholds", required: true, value: budget.thresholds.join(", "), pattern: "\\s*\\d+(\\s*,\\s*\\d+)*\\s*" }, "comma-separated, e.g. 50, 80, 100")),
    submit: async (data) => {
      const result = await api(`/api/erp/projects/${project.id}/budget`, { method: "PUT", json: {
        budget_hours: data.budget_hours === "" ? null : data.budget_hours, budget_amount: data.budget_amount,
        thresholds: data.thresholds.split(",").map((t) => Number(t.trim())) } });
      toast("Budget saved.");
      ctx.refresh();
      return result;
    },
  });
}

// The budget panel of a project's page: burn bars, the figures table, alerts reached, phases, and editing.
export async function budgetPanel(project, ctx) {
  const budget = await optional(api(`/api/erp/projects/${project.id}/budget`));
  const head = h("h2", { id: "pj-budget" }, "Budget and burn");
  if (budget === null) return h("section", { class: "panel", "aria-labelledby": "pj-budget" }, head, unavailable("The budget"));
  const cur = budget.currency;
  const show = (v) => money(v, cur);
  const rows = [["Hours", budget.hours, hours], [`Money (${cur})`, budget.money, show]];
  return h("section", { class: "panel", id: "budget-panel", "aria-labelledby": "pj-budget" },
    h("div", { class: "panel-head" }, head,
      ctx.can("erp.budgets.write") ? h("button", { type: "button", class: "secondary", onclick: () => editBudgetDialog(project, budget, ctx) }, "Edit budget") : null),
    barList([burnRow("Hours burnt", budget.hours, hours), burnRow("Money burnt (cost)", budget.money, show)], { max: 100 }),
    table([
      { label: "Measure", value: (r) => r[0] },
      { label: "Budget", value: (r) => (r[1].budget === null ? "—" : r[2](r[1].budget)), num: true },
      { label: "Actual", value: (r) => r[2](r[1].actual), num: true },
      { label: "Unbilled", value: (r) => r[2](r[1].unbilled), num: true },
      { label: "Invoiced", value: (r) => r[2](r[1].invoiced), num: true },
      { label: "Forecast at completion", value: (r) => r[2](r[1].forecast_at_completion), num: true },
    ], rows, { caption: "Budget figures" }),
    h("p", { class: "muted small" }, "Money actual is the cost of time (at cost rates) and approved expenses; unbilled is approved billable work not yet invoiced, at bill rates; forecast adds booked hours. ",
      `Alerts at ${budget.thresholds.join(", ")} % of the budget.`),
    budget.alerts.length ? h("ul", { id: "budget-alerts", "aria-label": "Budget alerts" }, budget.alerts.map((a) => h("li", {},
      `${a.threshold} % of the ${a.measure} budget reached on ${dateTime(a.reached_at)} (${a.measure === "hours" ? hours(a.actual) : show(a.actual)} of ${a.measure === "hours" ? hours(a.budget) : show(a.budget)})`)))
      : h("p", { class: "muted", id: "budget-alerts" }, "No alert threshold reached yet."),
    budget.phases.length ? table([
      { label: "Phase", value: (p) => p.label },
      { label: "Due", value: (p) => date(p.due_date) },
      { label: "Budget", value: (p) => show(p.budget), num: true },
      { label: "Invoiced", value: (p) => show(p.invoiced), num: true },
    ], budget.phases, { caption: "Phases (milestones)" }) : null);
}

// A project's margin on both bases, side by side, each saying what it compares.
export function marginPanel(row, currency) {
  const margins = row?.margins || [];
  return h("section", { class: "panel", id: "margin-panel", "aria-labelledby": "pj-profit" }, h("h2", { id: "pj-profit" }, "Margin"),
    margins.length ? [
      barList(margins.map((m) => ({ label: m.basis === "effort" ? "Effort basis" : "Invoiced basis",
        value: Math.max(0, Number(m.margin_percent || 0)), text: `${money(m.margin, currency)} · ${percent(m.margin_percent)}`,
        tone: Number(m.margin) < 0 ? "bad" : "good" })), { max: 100 }),
      h("dl", { class: "facts" }, margins.flatMap((m) => [
        h("dt", {}, m.basis === "effort" ? "Effort basis" : "Invoiced basis"),
        h("dd", { "data-basis": m.basis }, `${percent(m.margin_percent)}: ${money(m.revenue, currency)} revenue less ${money(m.cost, currency)} cost. `,
          h("span", { class: "muted small" }, m.label))])),
    ] : unavailable("Profitability for this project"));
}

// --- the department efficiency report (finance) -----------------------------------------------------

export async function efficiencyView(root, ctx) {
  const today = isoDate();
  const dateFrom = ctx.query.get("date_from") || `${today.slice(0, 8)}01`;
  const dateTo = ctx.query.get("date_to") || today;
  const groupBy = ctx.query.get("group_by") === "department" ? "department" : "cost_center";
  const go = (form) => ctx.navigate(`/efficiency?date_from=${form.date_from.value}&date_to=${form.date_to.value}&group_by=${form.group_by.value}`);
  const form = h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); go(e.target); } },
    field("From", { name: "date_from", type: "date", value: dateFrom, required: true }),
    field("To", { name: "date_to", type: "date", value: dateTo, required: true }),
    field("Group by", select({ name: "group_by" }, [["cost_center", "Cost center of the project"], ["department", "Department of the people"]], groupBy)),
    h("button", { type: "submit" }, "Show"));
  const basis = groupBy === "department"
    ? "Per department of the people who logged time: each project's revenue and expenses are shared out by their hours on it, its cost of time by what their hours cost. Projects with money but no time in the period, and people without a department, are under \u201cNo department\u201d."
    : "Per cost center of the projects worked on. Revenue is earned by effort; direct cost is time at cost rates plus approved expenses.";
  root.append(pageHead("Department efficiency"), form, h("p", { class: "muted small" }, basis));
  let report;
  try {
    report = await api("/api/erp/reports/department-efficiency", { query: { date_from: dateFrom, date_to: dateTo, group_by: groupBy } });
  } catch (error) {
    if (error instanceof ApiError && error.status === 422) { root.append(h("p", { class: "notice", role: "alert" }, error.message)); return { events: [] }; }
    throw error;
  }
  const group = groupBy === "department"
    ? { label: "Department", value: (r) => r.department || "No department" }
    : { label: "Cost center", value: (r) => (r.cost_center_code ? `${r.cost_center_code} ${r.cost_center_name}` : "No cost center") };
  root.append(table([
    group,
    { label: "Revenue", value: (r) => money(r.revenue, r.currency), num: true },
    { label: "Direct cost", value: (r) => money(r.direct_cost, r.currency), num: true },
    { label: "Margin", value: (r) => `${money(r.margin, r.currency)} (${percent(r.margin_percent)})`, num: true },
    { label: "Billable utilisation", value: (r) => percent(r.billable_utilisation_percent), num: true },
    { label: "Revenue per billable hour", value: (r) => money(r.revenue_per_billable_hour, r.currency), num: true },
    { label: "Effective rate", value: (r) => money(r.effective_rate, r.currency), num: true },
    { label: "List rate", value: (r) => money(r.list_rate, r.currency), num: true },
    { label: "Effective vs list", value: (r) => percent(r.effective_vs_list_percent), num: true },
  ], report.items, { caption: "Department efficiency", empty: "No time, revenue or cost in this period." }));
  return { events: ["expense.", "invoice."] };
}
