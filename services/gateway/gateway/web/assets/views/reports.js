// Finance reports: AR aging, cash-flow forecast, project profitability. Charts are inline SVG.

import { api, all, optional } from "../api.js";
import { h, field, select, money, moneyByCurrency, barChart, table, addDays, isoDate, unavailable } from "../ui.js";
import { pageHead, clientNames } from "./common.js";
import { profitability } from "./projects.js";

const OPEN = ["issued", "partially_paid"];
const DAY = 86_400_000;

export async function openInvoices() {
  const rows = await optional(all("/api/erp/invoices", { kind: "invoice" }, 5000));
  if (rows === null) return null;
  return rows.filter((i) => OPEN.includes(i.status) && Number(i.balance_due) > 0);
}

export const AGING_BUCKETS = ["Not yet due", "0–30 days", "31–60 days", "61–90 days", "Over 90 days"];
const AGING_FIELDS = ["not_due", "days_0_30", "days_31_60", "days_61_90", "days_90_plus"];

function agingOf(invoices, today = new Date()) {
  const buckets = {}; // currency -> [5 amounts]
  for (const inv of invoices) {
    const late = inv.due_date ? Math.floor((today - new Date(`${inv.due_date}T00:00:00`)) / DAY) : -1;
    const i = late < 0 ? 0 : late <= 30 ? 1 : late <= 60 ? 2 : late <= 90 ? 3 : 4;
    buckets[inv.currency] ||= [0, 0, 0, 0, 0];
    buckets[inv.currency][i] += Number(inv.balance_due);
  }
  return buckets;
}

// Receivables by days past due: the ERP's AR-aging report, or computed from open invoices.
// -> {totals: {currency: [5]}, clients: [{client, currency, amounts: [5], total}], source}
export async function arAging() {
  const report = await optional(api("/api/erp/reports/ar-aging", { query: { limit: 1000 } }));
  if (report && Array.isArray(report.items)) {
    const totals = {};
    for (const t of report.totals || []) totals[t.currency] = AGING_FIELDS.map((f) => Number(t[f] || 0));
    const clients = report.items.map((r) => ({ client: r.client_name, clientId: r.client_id, currency: r.currency,
      amounts: AGING_FIELDS.map((f) => Number(r[f] || 0)), total: Number(r.total || 0) }));
    return { totals, clients, source: "report" };
  }
  const invoices = await openInvoices();
  if (invoices === null) return null;
  const names = await clientNames();
  const perClient = {};
  for (const inv of invoices) {
    const key = `${inv.client_id}/${inv.currency}`;
    perClient[key] ||= { client: names[inv.client_id] || "—", clientId: inv.client_id, currency: inv.currency, amounts: [0, 0, 0, 0, 0], total: 0 };
    agingOf([inv])[inv.currency].forEach((v, i) => { perClient[key].amounts[i] += v; });
    perClient[key].total += Number(inv.balance_due);
  }
  return { totals: agingOf(invoices), clients: Object.values(perClient), source: "invoices" };
}

// Cash expected per week for `weeks` weeks: the ERP's cash-flow forecast (open invoices by due date plus
// schedule items not yet invoiced), or, without it, open invoices by due date.
export async function cashFlow(weeks = 8) {
  const start = new Date(); start.setHours(0, 0, 0, 0);
  const end = addDays(start, weeks * 7 - 1);
  const report = await optional(api("/api/erp/reports/cash-flow", { query: { interval: "week", date_from: isoDate(start), date_to: isoDate(end) } }));
  const fmt = (d) => d.toLocaleDateString("en-GB", { day: "numeric", month: "short" });
  if (report && Array.isArray(report.items)) {
    const starts = [...new Set(report.items.map((r) => r.period_start))].sort();
    const series = {};
    for (const r of report.items) {
      series[r.currency] ||= new Array(starts.length).fill(0);
      series[r.currency][starts.indexOf(r.period_start)] += Number(r.inflow || 0);
    }
    const totals = {}; const overdue = {};
    for (const t of report.totals || []) { totals[t.currency] = Number(t.inflow || 0); overdue[t.currency] = Number(t.overdue_invoices || 0); }
    return { labels: starts.map((d) => fmt(new Date(`${d}T00:00:00`))), series, totals, overdue, source: "report" };
  }
  const invoices = await openInvoices();
  if (invoices === null) return null;
  const series = {};
  for (const inv of invoices) {
    const due = inv.due_date ? new Date(`${inv.due_date}T00:00:00`) : start;
    const w = Math.max(0, Math.floor((due - start) / (7 * DAY)));
    if (w >= weeks) continue;
    series[inv.currency] ||= new Array(weeks).fill(0);
    series[inv.currency][w] += Number(inv.balance_due || 0);
  }
  const totals = {};
  for (const [currency, values] of Object.entries(series)) totals[currency] = values.reduce((a, b) => a + b, 0);
  const labels = []; for (let w = 0; w < weeks; w += 1) labels.push(fmt(addDays(start, w * 7)));
  return { labels, series, totals, overdue: {}, source: "invoices" };
}

export async function reportsView(root, ctx) {
  const [aging, flow, profit] = await Promise.all([arAging(), cashFlow(8), profitability()]);
  root.append(pageHead("Reports"));
  // AR aging
  const agingCurrencies = aging ? Object.keys(aging.totals).sort() : [];
  const chosen = ctx.query.get("currency") || (agingCurrencies.includes("EUR") ? "EUR" : agingCurrencies[0]);
  const agingRows = aging ? aging.clients.filter((r) => r.currency === chosen && r.total).sort((a, b) => b.total - a.total) : [];
  root.append(h("section", { class: "panel", "aria-labelledby": "rp-aging" },
    h("div", { class: "page-head" }, h("h2", { id: "rp-aging" }, "Accounts receivable aging"),
      agingCurrencies.length > 1 ? field("Currency", select({ onchange: (e) => ctx.navigate(`/reports?currency=${e.target.value}`) }, agingCurrencies.map((c) => [c, c]), chosen)) : null),
    aging === null ? unavailable("Invoicing")
      : !agingCurrencies.length || !aging.totals[chosen].some((v) => v) ? h("p", { class: "empty" }, "Nothing is owed: every issued invoice is paid.")
        : [barChart({ title: `Receivables by days past due (${chosen})`, labels: AGING_BUCKETS,
          series: [{ name: `Balance due (${chosen})`, values: aging.totals[chosen], color: "#b54708" }] }),
        table([
          { label: "Client", value: (r) => r.client },
          ...AGING_BUCKETS.map((b, i) => ({ label: b, value: (r) => money(r.amounts[i], chosen), num: true })),
          { label: "Total", value: (r) => money(r.total, chosen), num: true },
        ], agingRows)]));
  // Cash flow
  root.append(h("section", { class: "panel", "aria-labelledby": "rp-cash" }, h("h2", { id: "rp-cash" }, "Cash expected in the next 8 weeks"),
    flow === null ? unavailable("The cash-flow forecast")
      : !Object.keys(flow.series).length ? h("p", { class: "empty" }, "No cash is expected in the next 8 weeks.")
        : [barChart({ title: "Cash expected per week", labels: flow.labels, stacked: true,
          series: Object.entries(flow.series).map(([currency, values]) => ({ name: currency, values })) }),
        h("p", { class: "muted small" }, `Total: ${moneyByCurrency(flow.totals)}. `, flow.source === "report"
          ? `From the ERP's cash-flow forecast: open invoices by due date and billing-schedule items not yet invoiced. Already overdue: ${moneyByCurrency(flow.overdue, "nothing")}.`
          : "From open invoices by due date (overdue ones count in the first week).")]));
  // Profitability
  const rows = profit ? Object.values(profit) : null;
  root.append(h("section", { class: "panel", "aria-labelledby": "rp-profit" }, h("h2", { id: "rp-profit" }, "Project profitability"),
    rows === null ? unavailable("The profitability report")
      : table([
        { label: "Project", value: (r) => h("a", { href: `#/projects/${r.id}` }, r.name || "Project") },
        { label: "Revenue", value: (r) => money(r.revenue, r.currency), num: true },
        { label: "Cost", value: (r) => money(r.cost, r.currency), num: true },
        { label: "Margin, invoiced basis", value: (r) => money(r.margin, r.currency), num: true },
        { label: "Margin %, invoiced basis", value: (r) => (r.marginPercent === null ? "—" : `${r.marginPercent.toFixed(1)}%`), num: true },
        { label: "Budget burn", value: (r) => (r.burn === null ? "—" : `${r.burn.toFixed(1)}%`), num: true },
      ], rows.sort((a, b) => b.margin - a.margin), { empty: "No project has revenue or cost yet." })));
  return { events: ["invoice.", "payment.", "project.", "expense."] };
}

