// Delivery and finance: projects (budget burn, margin), one project with its billing schedule and invoices.

import { api, all, optional, itemsOf, ApiError } from "../api.js";
import { h, field, money, date, badge, formDialog, toast, table, unavailable, isoDate, label } from "../ui.js";
import { pageHead, clientNames } from "./common.js";
import { budgetPanel, marginPanel } from "./budget.js";
import { exportPanel } from "./csv.js";

// The profitability report's row for each project, whatever the report calls its fields.
export async function profitability(query = {}) {
  const report = await optional(api("/api/erp/reports/profitability", { query: { group_by: "project", limit: 1000, ...query } }));
  if (report === null) return null;
  const rows = Array.isArray(report) ? report : (report.items || report.projects || report.rows || []);
  const byProject = {};
  for (const r of rows) {
    const id = r.project_id || r.id;
    const revenue = Number(r.revenue_invoiced ?? r.revenue ?? 0);
    const cost = Number(r.cost_total ?? r.cost ?? 0);
    const margin = r.margin !== undefined ? Number(r.margin) : revenue - cost;
    const marginPercent = r.margin_percent ?? r.margin_pct ?? (revenue ? (margin / revenue) * 100 : null);
    const budget = Number(r.budget_amount ?? 0);
    const burn = r.budget_burn_percent ?? (budget ? (cost / budget) * 100 : null);
    byProject[id] = { ...r, id, name: r.project_name || r.name, currency: r.currency, revenue, cost, margin,
      marginPercent: marginPercent === null ? null : Number(marginPercent), burn: burn === null ? null : Number(burn) };
  }
  return byProject;
}

function percent(v) { return v === null || v === undefined || Number.isNaN(v) ? "—" : `${Number(v).toFixed(1)}%`; }

export async function projectsView(root, ctx) {
  const status = ctx.query.get("status") || "";
  // A member (no erp.read) sees the projects they work on, without clients or figures (cost, margin).
  const reader = ctx.can("erp.read");
  const [projects, clients, profit] = await Promise.all([
    all("/api/erp/projects", { status }, 1000), reader ? clientNames() : {}, reader ? profitability() : null,
  ]);
  const filter = h("select", { id: "project-status", onchange: (e) => ctx.navigate(`/projects?status=${e.target.value}`) },
    [["", "All"], ["active", "Active"], ["on_hold", "On hold"], ["completed", "Completed"], ["cancelled", "Cancelled"]]
      .map(([v, t]) => h("option", { value: v, selected: v === status }, t)));
  root.append(pageHead("Projects"), h("div", { class: "filters" }, field("Status", filter)),
    profit === null && reader ? h("p", { class: "notice" }, "Budget burn and margin need the profitability report, which is not available on this server yet.") : null,
    table([
      { label: "Project", value: (p) => h("a", { href: `#/projects/${p.id}` }, p.name) },
      { label: "Client", value: (p) => clients[p.client_id] || "—" },
      { label: "Status", value: (p) => badge(p.status) },
      { label: "Budget", value: (p) => money(p.budget_amount, p.currency), num: true },
      { label: "Budget burn", value: (p) => percent(profit?.[p.id]?.burn), num: true },
      { label: "Margin, effort basis", value: (p) => (profit?.[p.id] ? percent(profit[p.id].recognised_margin_percent) : "—"), num: true },
      { label: "Margin, invoiced basis", value: (p) => (profit?.[p.id] ? `${money(profit[p.id].margin, p.currency)} (${percent(profit[p.id].marginPercent)})` : "—"), num: true },
      { label: "Started", value: (p) => date(p.created_at) },
    ], projects, { empty: reader ? "No projects yet: win a deal and the ERP opens one."
      : "You work on no project yet: a project shows here once time is logged for you on it." }));
  if (reader) root.append(exportPanel([["time-entries", "time entries"]]));
  return { events: ["project.", "invoice.", "payment.", "expense."] };
}

// "Due by" is today at most: the server refuses a run dated in the future (it would bill items before they are due).
function billingRunDialog(project, ctx, nextDue) {
  const today = isoDate();
  return formDialog({
    title: `Invoice due items of ${project.name}`,
    submitLabel: "Run billing",
    build: (body) => body.append(
      h("p", { class: "muted" }, "Invoices every schedule item due by the date (and approved billable time), exactly once."),
      field("Due by", { name: "as_of", type: "date", required: true, max: today, value: today },
        nextDue && nextDue > today ? `the next item falls due on ${date(nextDue)}` : undefined),
      h("div", { class: "field" }, h("input", { type: "checkbox", name: "issue", id: "run-issue", checked: true }),
        h("label", { for: "run-issue", style: "display:inline;margin-left:.4rem" }, "Issue the invoices now (numbered); untick to leave drafts"))),
    submit: async (data) => {
      const result = await api("/api/erp/billing-runs", { method: "POST", json: { as_of: data.as_of, project_id: project.id, issue: Boolean(data.issue) } });
      const count = result.invoices_created ?? itemsOf(result.invoices).length;
      toast(count ? `${count} invoice${count === 1 ? "" : "s"} created.` : "Nothing was due by that date.");
      ctx.refresh();
      return result;
    },
  });
}

// What a member sees of a project they work on: the project and their own time on it; no client, invoices or
// figures (cost, margin: issue 23).
async function memberProjectView(root, ctx, project) {
  const mine = await all("/api/erp/time-entries", { project_id: project.id }, 1000);
  const hours = mine.reduce((sum, e) => sum + Number(e.hours), 0);
  root.append(pageHead(project.name),
    h("section", { class: "panel", "aria-labelledby": "pj-facts" }, h("h2", { id: "pj-facts" }, "Project"),
      h("dl", { class: "facts" },
        h("dt", {}, "Status"), h("dd", {}, badge(project.status)),
        h("dt", {}, "Your hours"), h("dd", { id: "project-my-hours" }, `${hours.toFixed(2)} h`))),
    h("section", { class: "panel", "aria-labelledby": "pj-my-time" }, h("h2", { id: "pj-my-time" }, "Your time on it"),
      table([
        { label: "Date", value: (e) => date(e.work_date) },
        { label: "Hours", value: (e) => Number(e.hours).toFixed(2), num: true },
        { label: "Billable", value: (e) => (e.billable ? "yes" : "no") },
        { label: "Note", value: (e) => e.description || "—" },
        { label: "Status", value: (e) => badge(e.status) },
      ], mine, { caption: "Your time on this project", empty: "You have logged no time on it yet." })));
  return { events: ["project."] };
}

export async function projectView(root, ctx) {
  const [id] = ctx.params;
  let project;
  try {
    project = await api(`/api/erp/projects/${id}`);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 422)) {
      root.append(pageHead("Project not found"), h("p", {}, "This project does not exist. ", h("a", { href: "#/projects" }, "Back to projects.")));
      return { events: [] };
    }
    throw error;
  }
  if (!ctx.can("erp.read")) return memberProjectView(root, ctx, project);
  const [schedule, invoices, client, profit, budgetLines, budget] = await Promise.all([
    optional(api(`/api/erp/projects/${id}/billing-schedule`)),
    optional(api("/api/erp/invoices", { query: { project_id: id, limit: 200 } })),
    optional(api(`/api/erp/clients/${project.client_id}`)),
    profitability({ project_id: id }),
    optional(api(`/api/erp/projects/${id}/budget-lines`)),
    budgetPanel(project, ctx),
  ]);
  const row = profit?.[id];
  const items = schedule ? itemsOf(schedule.items) : [];
  const nextDue = items.find((i) => i.status === "pending" && i.due_date)?.due_date;
  const finance = ctx.can("erp.billing_runs.write");
  const invoiceRows = invoices === null ? null : itemsOf(invoices);
  const invoiced = (invoiceRows || []).filter((i) => i.kind !== "credit_note" && i.status !== "void" && i.status !== "draft")
    .reduce((sum, i) => sum + Number(i.total || 0), 0);
  const paid = (invoiceRows || []).reduce((sum, i) => sum + Number(i.amount_paid || 0), 0);
  root.append(
    pageHead(project.name, finance && schedule ? h("button", { type: "button", onclick: () => billingRunDialog(project, ctx, nextDue) }, "Invoice due items") : null),
    h("div", { class: "grid-2" },
      h("section", { class: "panel", "aria-labelledby": "pj-facts" }, h("h2", { id: "pj-facts" }, "Project"),
        h("dl", { class: "facts" },
          h("dt", {}, "Client"), h("dd", {}, client ? (client.crm_company_id ? h("a", { href: `#/companies/${client.crm_company_id}` }, client.name) : client.name) : "—"),
          h("dt", {}, "Status"), h("dd", {}, badge(project.status)),
          h("dt", {}, "Budget"), h("dd", {}, money(project.budget_amount, project.currency), project.budget_hours ? ` · ${project.budget_hours} h` : ""),
          h("dt", {}, "From deal"), h("dd", {}, project.deal_id ? h("a", { href: `#/deals/${project.deal_id}` }, "Open the deal") : "—"),
          h("dt", {}, "Invoiced"), h("dd", { id: "project-invoiced" }, money(invoiced, project.currency)),
          h("dt", {}, "Paid"), h("dd", {}, money(paid, project.currency)))),
      marginPanel(row, project.currency)),
    budget,
    budgetLines?.length ? h("section", { class: "panel", id: "budget-lines", "aria-labelledby": "pj-budget-lines" },
      h("h2", { id: "pj-budget-lines" }, "Budget lines", h("span", { class: "muted small" }, " · from the accepted quote")),
      table([
        { label: "Description", value: (l) => l.description },
        { label: "Quantity", value: (l) => `${Number(l.quantity)} ${l.unit}`, num: true },
        { label: "Unit price", value: (l) => money(l.unit_price, project.currency), num: true },
        { label: "Amount", value: (l) => money(l.amount, project.currency), num: true },
      ], budgetLines)) : null,
    h("section", { class: "panel", "aria-labelledby": "pj-schedule" },
      h("h2", { id: "pj-schedule" }, "Billing schedule", schedule ? h("span", { class: "muted small" }, ` · ${label(schedule.billing_type)}, total ${money(schedule.total, schedule.currency)}`) : null),
      schedule === null ? h("p", { class: "empty" }, "This project has no billing schedule.")
        : schedule.billing_type === "time_and_materials" && !items.length
          ? h("p", { class: "muted" }, `Billed from approved time at ${money(schedule.hourly_rate, schedule.currency)}/h${schedule.cap ? `, capped at ${money(schedule.cap, schedule.currency)}` : ""}.`)
          : table([
            { label: "#", value: (i) => String(i.position + (items[0]?.position === 0 ? 1 : 0)) },
            { label: "Item", value: (i) => i.label },
            { label: "Due", value: (i) => date(i.due_date) },
            { label: "Amount", value: (i) => money(i.amount, schedule.currency), num: true },
            { label: "Status", value: (i) => badge(i.status) },
            { label: "Invoice", value: (i) => (i.invoice_id ? h("a", { href: `#/invoices/${i.invoice_id}` }, "Open") : "—") },
          ], items)),
    h("section", { class: "panel", "aria-labelledby": "pj-invoices" }, h("h2", { id: "pj-invoices" }, "Invoices"),
      invoiceRows === null ? unavailable("Invoices") : table([
        { label: "Number", value: (i) => h("a", { href: `#/invoices/${i.id}` }, i.number || "Draft") },
        { label: "Status", value: (i) => badge(i.overdue ? "overdue" : i.status) },
        { label: "Due", value: (i) => date(i.due_date) },
        { label: "Total", value: (i) => money(i.total, i.currency), num: true },
        { label: "Balance", value: (i) => money(i.balance_due, i.currency), num: true },
      ], invoiceRows, { empty: "No invoices yet." })));
  return { events: ["project.", "invoice.", "payment.", "expense."] };
}
