// The dashboard: the numbers a founder wants at a glance.

import { all, optional } from "../api.js";
import { h, money, moneyByCurrency, addTo, barList, barChart, table, date, badge, unavailable } from "../ui.js";
import { pipelines, stageIndex, pageHead } from "./common.js";
import { cashFlow } from "./reports.js";
import { profitability } from "./projects.js";

function kpi(id, title, value, note, bad = false) {
  return h("section", { class: "kpi", id, "aria-labelledby": `${id}-t` },
    h("h2", { id: `${id}-t` }, title), h("div", { class: `value ${bad ? "bad" : ""}`, "data-testid": `${id}-value` }, value),
    note ? h("div", { class: "note" }, note) : null);
}

// A member's home: their own work, no company figures (they may read none of them).
function memberHome(root, ctx, name) {
  root.append(pageHead(`Hello${name ? `, ${name}` : ""}`),
    h("section", { class: "panel", "aria-labelledby": "db-mine" }, h("h2", { id: "db-mine" }, "Your work"),
      h("ul", {},
        h("li", {}, h("a", { href: "#/projects" }, "The projects you work on")),
        h("li", {}, h("a", { href: "#/expenses" }, "Your expenses")),
        h("li", {}, h("a", { href: `#/people/${ctx.me.id}` }, "Your capacity and rates")))));
  return { events: [] };
}

export async function dashboardView(root, ctx) {
  const name = (ctx.me.full_name || "").trim().split(/\s+/)[0] || (ctx.me.email || "").split("@")[0];
  if (!ctx.can("crm.read") && !ctx.can("erp.read")) return memberHome(root, ctx, name);
  const now = new Date();
  const monthStart = new Date(now.getFullYear(), now.getMonth(), 1);
  const [open, won, stages, overdue, flow, profit] = await Promise.all([
    all("/api/crm/deals", { status: "open" }, 5000),
    all("/api/crm/deals", { status: "won", sort: "updated_at", order: "desc" }, 5000),
    pipelines().then(stageIndex),
    optional(all("/api/erp/invoices", { overdue: "true" }, 2000)),
    cashFlow(8).catch(() => null),
    profitability().catch(() => null),
  ]);
  const wonThisMonth = won.filter((d) => d.won_at && new Date(d.won_at) >= monthStart);
  const wonTotals = {}; for (const d of wonThisMonth) addTo(wonTotals, d.currency, d.amount);
  const weighted = {}; for (const d of open) addTo(weighted, d.currency, (Number(d.amount) * Number(stages[d.stage_id]?.probability || 0)) / 100);
  const overdueTotals = {}; for (const i of overdue || []) addTo(overdueTotals, i.currency, i.balance_due);
  const monthName = now.toLocaleDateString("en-GB", { month: "long" });
  root.append(pageHead(`Hello${name ? `, ${name}` : ""}`),
    h("div", { class: "kpis" },
      kpi("kpi-won", `Revenue won in ${monthName}`, moneyByCurrency(wonTotals, "0"), `${wonThisMonth.length} deal${wonThisMonth.length === 1 ? "" : "s"} won`),
      kpi("kpi-pipeline", "Weighted pipeline", moneyByCurrency(weighted, "0"), `${open.length} open deal${open.length === 1 ? "" : "s"}`),
      kpi("kpi-cash", "Cash expected, next 8 weeks", flow ? moneyByCurrency(flow.totals, "0") : "—",
        flow ? (flow.source === "report" ? "ERP cash-flow forecast" : "open invoices by due date") : "not available"),
      kpi("kpi-overdue", "Overdue invoices", overdue === null ? "—" : `${overdue.length}`,
        overdue === null ? "invoicing not available" : moneyByCurrency(overdueTotals, "nothing overdue"), (overdue || []).length > 0)));
  const marginRows = profit ? Object.values(profit).filter((r) => r.revenue || r.cost).sort((a, b) => b.margin - a.margin).slice(0, 8) : null;
  root.append(h("div", { class: "grid-2" },
    h("section", { class: "panel", "aria-labelledby": "db-margin" }, h("h2", { id: "db-margin" }, "Margin by project (invoiced basis)"),
      marginRows === null ? unavailable("The profitability report")
        : marginRows.length ? barList(marginRows.map((r) => ({
          label: h("a", { href: `#/projects/${r.id}` }, r.name || "Project"), value: r.marginPercent ?? 0,
          text: `${money(r.margin, r.currency)}${r.marginPercent === null ? "" : ` · ${r.marginPercent.toFixed(0)}%`}`,
          tone: r.margin < 0 ? "bad" : "good" })), { max: 100 }) : h("p", { class: "empty" }, "No project has revenue or cost yet.")),
    h("section", { class: "panel", "aria-labelledby": "db-cash" }, h("h2", { id: "db-cash" }, "Cash expected per week"),
      flow && Object.keys(flow.series).length ? barChart({ title: "Cash expected per week, next 8 weeks", labels: flow.labels, stacked: true, height: 220, width: 480,
        series: Object.entries(flow.series).map(([currency, values]) => ({ name: currency, values })) })
        : h("p", { class: "empty" }, flow ? "No cash is expected in the next 8 weeks." : "The cash-flow forecast is not available."))),
  h("section", { class: "panel", "aria-labelledby": "db-recent" }, h("h2", { id: "db-recent" }, `Won in ${monthName}`),
    table([
      { label: "Deal", value: (d) => h("a", { href: `#/deals/${d.id}` }, d.title) },
      { label: "Won", value: (d) => date(d.won_at) },
      { label: "Status", value: (d) => badge(d.status) },
      { label: "Amount", value: (d) => money(d.amount, d.currency), num: true },
    ], wonThisMonth.slice(0, 10), { empty: "No deal won this month yet." })));
  return { events: ["deal.", "invoice.", "payment.", "project.", "expense."] };
}
