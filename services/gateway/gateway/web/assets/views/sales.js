// Sales: leads inbox with convert, my tasks (overdue, today, upcoming), forecast chart.

import { api, all, optional, itemsOf } from "../api.js";
import { filterBar, apiQuery } from "./filters.js";
import { h, field, select, money, date, dateTime, badge, formDialog, toast, table, act, barChart, unavailable, label } from "../ui.js";
import { pageHead, companyNames, pipelines, stageIndex } from "./common.js";

// --- leads ---------------------------------------------------------------------------------------

export function newLeadDialog() {
  return formDialog({
    title: "New lead",
    submitLabel: "Add lead",
    build: (body) => body.append(
      h("div", { class: "row" }, field("First name", { name: "first_name" }), field("Last name", { name: "last_name" })),
      h("div", { class: "row" }, field("Email", { name: "email", type: "email" }), field("Phone", { name: "phone", type: "tel" })),
      h("div", { class: "row" }, field("Company", { name: "company_name" }), field("Company domain", { name: "company_domain", placeholder: "example.com" })),
      field("Source", select({ name: "source" }, ["website", "referral", "partner", "event", "campaign", "cold_outreach", "other"].map((v) => [v, label(v)]), "referral")),
      field("Message", h("textarea", { name: "message" }))),
    submit: async (data) => {
      const body = Object.fromEntries(Object.entries(data).filter(([, v]) => v !== ""));
      const lead = await api("/api/crm/leads", { method: "POST", json: body });
      toast(`Lead ${lead.full_name || lead.email} added (score ${lead.score ?? "—"}).`);
      return lead;
    },
  });
}

export function convertDialog(lead) {
  return formDialog({
    title: `Convert ${lead.full_name || lead.company_name || lead.email}`,
    submitLabel: "Convert",
    build: (body) => {
      const withDeal = h("input", { type: "checkbox", name: "with_deal", id: "convert-with-deal", checked: true });
      const dealFields = h("div", {},
        field("Deal title", { name: "title", value: lead.company_name ? `${lead.company_name}` : "" }, "default: the company's name"),
        h("div", { class: "row" },
          field("Amount", { name: "amount", inputmode: "decimal", value: "0" }),
          field("Currency", { name: "currency", value: "EUR", maxlength: 3, pattern: "^[A-Z]{3}$" })));
      withDeal.addEventListener("change", () => { dealFields.hidden = !withDeal.checked; });
      body.append(h("p", { class: "muted" }, "Creates the company and contact, and optionally opens a deal. The lead's message is kept as a note on their timelines."),
        h("div", { class: "field" }, withDeal, h("label", { for: "convert-with-deal", class: "inline" }, "Also open a deal")),
        dealFields);
    },
    submit: async (data) => {
      const body = { create_contact: true };
      if (data.with_deal) body.deal = { amount: data.amount || "0", currency: (data.currency || "EUR").toUpperCase(), ...(data.title ? { title: data.title } : {}) };
      const result = await api(`/api/crm/leads/${lead.id}/convert`, { method: "POST", json: body });
      toast(result.already_converted ? "This lead was already converted." : "Lead converted.");
      return result;
    },
  });
}

const LEAD_FILTERS = [
  { key: "owner", label: "Owner", kind: "owner" },
  { key: "status", label: "Status", kind: "select", options: [["new", "New"], ["contacted", "Contacted"], ["qualified", "Qualified"], ["converted", "Converted"], ["disqualified", "Disqualified"], ["all", "All"]] },
  { key: "received_from", label: "Received from", kind: "date" },
  { key: "received_to", label: "Received to", kind: "date" },
];

export async function leadsView(root, ctx) {
  const status = ctx.query.get("status") || "new";
  const filters = await filterBar(ctx, { list: "leads", path: "/leads", fields: LEAD_FILTERS });
  const query = { ...apiQuery(ctx, filters.values), status: status === "all" ? "" : status };
  const leads = await optional(api("/api/crm/leads", { query: { ...query, limit: 100, sort: "score", order: "desc" } }));
  root.append(pageHead("Leads", ctx.can("crm.leads.write") && leads !== null ? h("button", { type: "button", onclick: async () => { if (await newLeadDialog()) ctx.refresh(); } }, "New lead") : null));
  if (leads === null) { root.append(unavailable("The leads inbox")); return { events: ["lead."] }; }
  const errors = h("div", { "aria-live": "assertive" });
  const rows = itemsOf(leads).sort((a, b) => (b.score || 0) - (a.score || 0));
  root.append(filters.element, errors,
    table([
      { label: "Lead", value: (l) => h("div", {}, h("a", { href: `#/leads/${l.id}` }, h("strong", {}, l.full_name || l.company_name || l.email || "Lead")), h("div", { class: "small muted" }, l.email || l.phone || "")) },
      { label: "Company", value: (l) => l.company_id ? h("a", { href: `#/companies/${l.company_id}` }, l.company_name || "Company") : (l.company_name || "—") },
      { label: "Source", value: (l) => label(l.source) },
      { label: "Score", value: (l) => h("span", { title: (l.score_reasons || []).map((r) => `${r.points > 0 ? "+" : ""}${r.points} ${r.reason}`).join("\n") }, String(l.score ?? "—")), num: true },
      { label: "Status", value: (l) => badge(l.status) },
      { label: "Received", value: (l) => date(l.created_at) },
      { label: "", value: (l) => (ctx.can("crm.leads.write") && !l.converted_at && l.status !== "converted" && l.status !== "disqualified"
        ? h("button", { type: "button", class: "secondary", onclick: async () => {
          const result = await convertDialog(l);
          if (result?.deal_id) ctx.navigate(`/deals/${result.deal_id}`);
          else if (result) ctx.refresh();
        } }, "Convert")
        : (l.deal_id ? h("a", { href: `#/deals/${l.deal_id}` }, "Deal") : "")) },
    ], rows, { empty: "No leads match these filters." }));
  return { events: ["lead."] };
}

// --- my tasks ------------------------------------------------------------------------------------

export async function tasksView(root, ctx) {
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const due = await optional(api("/api/crm/tasks/due", { query: { tz, days: 30 } }));
  root.append(pageHead("My tasks"));
  if (due === null) { root.append(unavailable("Tasks")); return { events: ["task."] }; }
  const groups = [["Overdue", itemsOf(due.overdue), "bad"], ["Today", itemsOf(due.today), "warn"], ["Upcoming", itemsOf(due.upcoming), "info"]];
  const errors = h("div", { "aria-live": "assertive" });
  root.append(h("p", { class: "muted" }, "Your open follow-ups for the next 30 days. Add them from a deal or company page."), errors);
  for (const [title, rows, tone] of groups) {
    root.append(h("section", { class: "panel", "aria-labelledby": `tasks-${title}` },
      h("h2", { id: `tasks-${title}` }, title, " ", h("span", { class: `badge ${tone}` }, String(rows.length))),
      table([
        { label: "Task", value: (t) => h("div", {}, h("strong", {}, t.title), t.description ? h("div", { class: "small muted" }, t.description) : null) },
        { label: "Due", value: (t) => dateTime(t.due_at) },
        { label: "About", value: (t) => (t.deal_id ? h("a", { href: `#/deals/${t.deal_id}` }, "Deal") : t.company_id ? h("a", { href: `#/companies/${t.company_id}` }, "Company") : "—") },
        { label: "", value: (t) => h("button", { type: "button", class: "secondary", "aria-label": `Complete ${t.title}`, onclick: (e) => act(e.currentTarget, async () => {
          await api(`/api/crm/tasks/${t.id}/complete`, { method: "POST" });
          toast(`Done: ${t.title}`);
          ctx.refresh();
        }, errors) }, "Complete") },
      ], rows, { empty: title === "Overdue" ? "Nothing overdue." : "Nothing here." })));
  }
  return { events: ["task."] };
}

// --- forecast ------------------------------------------------------------------------------------

function duration(seconds) {
  if (seconds < 3600) return `${Math.max(1, Math.round(seconds / 60))} min`;
  if (seconds < 86400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} days`;
}

function monthKey(d) { return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}`; }
function monthLabel(key) {
  const [y, m] = key.split("-").map(Number);
  return new Date(y, m - 1, 1).toLocaleDateString("en-GB", { month: "short", year: "2-digit" });
}

export async function forecastView(root, ctx) {
  const [deals, won, stages, names, server] = await Promise.all([
    all("/api/crm/deals", { status: "open" }, 2000),
    all("/api/crm/deals", { status: "won", sort: "updated_at", order: "desc" }, 2000),
    pipelines().then(stageIndex),
    companyNames(),
    optional(api("/api/crm/reports/forecast")),
  ]);
  const now = new Date();
  const months = [];
  for (let i = -2; i < 6; i += 1) months.push(monthKey(new Date(now.getFullYear(), now.getMonth() + i, 1)));
  const currencies = [...new Set([...deals, ...won].map((d) => d.currency))].sort();
  const chosen = ctx.query.get("currency") || (currencies.includes("EUR") ? "EUR" : currencies[0]) || "EUR";
  const picker = currencies.length > 1 ? field("Currency", select({ onchange: (e) => ctx.navigate(`/forecast?currency=${e.target.value}`) }, currencies.map((c) => [c, c]), chosen)) : null;
  const weighted = months.map(() => 0); const best = months.map(() => 0); const closed = months.map(() => 0);
  let undated = 0;
  for (const d of deals.filter((x) => x.currency === chosen)) {
    const p = Number(stages[d.stage_id]?.probability || 0) / 100;
    if (!d.expected_close_date) { undated += Number(d.amount) * p; continue; }
    const i = months.indexOf(d.expected_close_date.slice(0, 7));
    if (i >= 0) { weighted[i] += Number(d.amount) * p; best[i] += Number(d.amount); }
  }
  if (server && Array.isArray(server.by_month)) {
    // The CRM's own figures (rounded per currency) replace the ones computed here.
    weighted.fill(0); best.fill(0); undated = 0;
    for (const r of server.by_month.filter((x) => x.currency === chosen)) {
      // Undated deals may come in several rows of one currency: they add up.
      if (!r.month) { undated += Number(r.weighted_amount); continue; }
      const i = months.indexOf(r.month);
      if (i >= 0) { weighted[i] = Number(r.weighted_amount); best[i] = Number(r.amount); }
    }
  }
  for (const d of won.filter((x) => x.currency === chosen && x.won_at)) {
    const i = months.indexOf(monthKey(new Date(d.won_at)));
    if (i >= 0) closed[i] += Number(d.amount);
  }
  root.append(pageHead("Forecast", picker),
    h("section", { class: "panel", "aria-labelledby": "fc-chart" }, h("h2", { id: "fc-chart" }, `Won and expected revenue by month (${chosen})`),
      barChart({ title: `Revenue by month in ${chosen}: won, weighted pipeline and best case`, labels: months.map(monthLabel), series: [
        { name: "Won", values: closed, color: "#067647" },
        { name: "Weighted pipeline", values: weighted, color: "#1d4ed8" },
        { name: "Best case (unweighted)", values: best, color: "#93a4c7" },
      ] }),
      h("p", { class: "muted small" }, `Weighted = amount × the stage's probability, by expected close month. Open deals without an expected close date: ${money(undated, chosen)} weighted.`)),
    h("section", { class: "panel", "aria-labelledby": "fc-deals" }, h("h2", { id: "fc-deals" }, "Open deals closing soonest"),
      table([
        { label: "Deal", value: (d) => h("a", { href: `#/deals/${d.id}` }, d.title) },
        { label: "Company", value: (d) => names[d.company_id] || "—" },
        { label: "Stage", value: (d) => stages[d.stage_id]?.name || "—" },
        { label: "Closes", value: (d) => date(d.expected_close_date) },
        { label: "Amount", value: (d) => money(d.amount, d.currency), num: true },
        { label: "Weighted", value: (d) => money(Number(d.amount) * Number(stages[d.stage_id]?.probability || 0) / 100, d.currency), num: true },
      ], deals.filter((d) => d.currency === chosen).sort((a, b) => String(a.expected_close_date || "9").localeCompare(String(b.expected_close_date || "9"))).slice(0, 15))),
    server && Array.isArray(server.stages) ? h("section", { class: "panel", "aria-labelledby": "fc-stages" }, h("h2", { id: "fc-stages" }, "Stage conversion"),
      table([
        { label: "Stage", value: (st) => st.name },
        { label: "Open deals", value: (st) => String(st.open_deals), num: true },
        { label: "Entered", value: (st) => String(st.entered), num: true },
        { label: "Moved on", value: (st) => (st.conversion_rate === null ? "—" : `${(Number(st.conversion_rate) * 100).toFixed(0)}%`), num: true },
        { label: "Average time in stage", value: (st) => (st.average_seconds_in_stage === null ? "—" : duration(st.average_seconds_in_stage)), num: true },
      ], server.stages.filter((st) => st.kind === "open"))) : null);
  return { events: ["deal."] };
}
