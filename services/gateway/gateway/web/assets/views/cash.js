// Cash: the forward forecast and its scenarios (baseline vs scenario, week by week), the recurring items and opening
// balance it starts from, and the exchange rates that convert other currencies into the base currency.

import { api, all, ApiError } from "../api.js";
import { h, s, field, select, money, date, formDialog, confirmDialog, toast, table, act, isoDate, label, PALETTE } from "../ui.js";
import { pageHead, clientNames } from "./common.js";

function cashNav(current) {
  const links = [["/cash-scenarios", "Forecast & scenarios"], ["/recurring-items", "Recurring items"], ["/exchange-rates", "Exchange rates"]];
  return h("nav", { class: "tabs", "aria-label": "Cash" }, links.map(([path, text]) =>
    h("a", { href: `#${path}`, "aria-current": path === current ? "page" : null }, text)));
}

// A 422 the screen can explain (no company profile, a missing exchange rate): a notice, not an error.
async function explained(promise, root) {
  try {
    return await promise;
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 422) throw error;
    root.append(h("p", { class: "notice", role: "status" }, error.message,
      error.problem.type?.endsWith("/missing-exchange-rate") ? [" ", h("a", { href: "#/exchange-rates" }, "Enter exchange rates")] : null));
    return null;
  }
}

// --- the chart: closing balance per week, baseline and scenario, with zero marked ------------------------

// An axis label: 84k, -1.2M (the table beside the chart has the exact figures).
function compact(v) {
  const abs = Math.abs(v);
  if (abs >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (abs >= 1e3) return `${Math.round(v / 1e3)}k`;
  return String(Math.round(v));
}

function balanceChart(title, weeks, series, currency) {
  const width = 720; const height = 260;
  const pad = { top: 16, right: 16, bottom: 40, left: 64 };
  const values = series.flatMap((sr) => sr.values).concat([0]);
  let lo = Math.min(...values); let hi = Math.max(...values);
  if (hi === lo) { hi += 1; lo -= 1; }
  const x = (i) => pad.left + (weeks.length > 1 ? (i / (weeks.length - 1)) * (width - pad.left - pad.right) : 0);
  const y = (v) => pad.top + (1 - (v - lo) / (hi - lo)) * (height - pad.top - pad.bottom);
  const titleId = `chart-${Math.random().toString(16).slice(2)}`;
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": titleId, class: "balance-chart" });
  svg.append(s("title", { id: titleId }, `${title} (${currency}); the table beside it has the figures`));
  for (const v of [lo, (lo + hi) / 2, hi]) {
    svg.append(s("line", { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), stroke: "#d5dae2" }),
      s("text", { x: pad.left - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#4b5565" }, compact(v)));
  }
  svg.append(s("line", { x1: pad.left, x2: width - pad.right, y1: y(0), y2: y(0), stroke: "#b42318", "stroke-dasharray": "4 3" }));
  series.forEach((sr, k) => {
    const points = sr.values.map((v, i) => `${x(i)},${y(v)}`).join(" ");
    svg.append(s("polyline", { points, fill: "none", stroke: PALETTE[k], "stroke-width": 2.5, "stroke-dasharray": k ? "6 3" : null }));
    sr.values.forEach((v, i) => svg.append(s("circle", { cx: x(i), cy: y(v), r: 3, fill: PALETTE[k] },
      s("title", {}, `${sr.name}, week of ${weeks[i]}: ${money(v, currency)}`))));
  });
  weeks.forEach((w, i) => {
    if (weeks.length <= 14 || i % 2 === 0) svg.append(s("text", { x: x(i), y: height - pad.bottom + 16, "text-anchor": "middle", "font-size": 10, fill: "#1a1f2b" }, w.slice(5)));
  });
  const legend = h("div", { class: "legend" }, series.map((sr, k) => h("span", { style: `--c:${PALETTE[k]}` }, `${sr.name}${k ? " (dashed)" : ""}`)));
  return h("figure", { class: "chart", style: "margin:0" }, svg, legend);
}

function lowest(forecast) {
  return `${money(forecast.lowest_balance, forecast.base_currency)} in the week of ${date(forecast.lowest_week)}`;
}

// --- adjustments of a scenario ---------------------------------------------------------------------

function describe(adjustment, names, base) {
  switch (adjustment.type) {
    case "client_pays_late": return `${names.clients[adjustment.client_id] || "A client"} pays ${adjustment.days} days late`;
    case "deal_lost": return `Deal ${names.deals[adjustment.deal_id] || adjustment.deal_id} is lost`;
    case "deal_won": return `Deal ${names.deals[adjustment.deal_id] || adjustment.deal_id} is won${adjustment.won_on ? ` on ${date(adjustment.won_on)}` : ""}`;
    case "hire": return `${adjustment.name} costing ${money(adjustment.monthly_cost, adjustment.currency || base)} a month from ${date(adjustment.start_date)}`;
    case "bill_paid_early": return `Bill ${names.bills[adjustment.bill_id] || adjustment.bill_id} paid on ${date(adjustment.pay_on)}`;
    default: return label(adjustment.type);
  }
}

async function scenarioDialog(names) {
  const option = (map) => Object.entries(map).map(([id, text]) => [id, text]);
  return formDialog({
    title: "New scenario",
    submitLabel: "Save scenario",
    build: (body) => body.append(
      field("Name", { name: "name", required: true, maxlength: 200 }),
      field("Description", { name: "description", maxlength: 2000 }),
      h("p", { class: "muted small" }, "Fill in the what-ifs this scenario makes; leave the others empty."),
      h("fieldset", {}, h("legend", {}, "A client pays late"),
        h("div", { class: "row" },
          field("Client", select({ name: "late_client" }, [["", "None"], ...option(names.clients)], "")),
          field("Days late", { name: "late_days", type: "number", min: -365, max: 365, value: 30 }))),
      h("fieldset", {}, h("legend", {}, "A deal is won or lost"),
        h("div", { class: "row" },
          field("Deal", select({ name: "deal_id" }, [["", "None"], ...option(names.deals)], "")),
          field("Outcome", select({ name: "deal_outcome" }, [["lost", "Lost"], ["won", "Won"]], "lost")))),
      h("fieldset", {}, h("legend", {}, "A hire"),
        h("div", { class: "row" },
          field("Monthly cost", { name: "hire_cost", inputmode: "decimal", pattern: "^\\d+(\\.\\d{1,2})?$" }),
          field("From", { name: "hire_start", type: "date", value: isoDate() }))),
      h("fieldset", {}, h("legend", {}, "A bill paid early"),
        h("div", { class: "row" },
          field("Bill", select({ name: "early_bill" }, [["", "None"], ...option(names.bills)], "")),
          field("Paid on", { name: "early_on", type: "date", value: isoDate() })))),
    submit: async (data) => {
      const adjustments = [];
      if (data.late_client) adjustments.push({ type: "client_pays_late", client_id: data.late_client, days: Number(data.late_days || 0) });
      if (data.deal_id) adjustments.push({ type: data.deal_outcome === "won" ? "deal_won" : "deal_lost", deal_id: data.deal_id });
      if (data.hire_cost) adjustments.push({ type: "hire", name: "New hire", monthly_cost: data.hire_cost, start_date: data.hire_start });
      if (data.early_bill) adjustments.push({ type: "bill_paid_early", bill_id: data.early_bill, pay_on: data.early_on });
      if (!adjustments.length) throw new Error("Choose at least one what-if.");
      const saved = await api("/api/erp/cash-flow-scenarios", { method: "POST",
        json: { name: data.name.trim(), description: data.description.trim() || null, adjustments } });
      toast(`Scenario ${saved.name} saved.`);
      return saved;
    },
  });
}

async function scenarioNames() {
  const [clients, deals, bills] = await Promise.all([clientNames(),
    all("/api/erp/open-deals", {}, 1000).catch(() => []),
    all("/api/erp/bills", {}, 2000)]);
  const open = bills.filter((b) => ["submitted", "approved", "partly_paid"].includes(b.status));
  return {
    clients,
    deals: Object.fromEntries(deals.map((d) => [d.deal_id, d.title])),
    bills: Object.fromEntries(open.map((b) => [b.id, `${b.vendor_name} ${b.vendor_reference} (${money(b.balance_due, b.currency)}, due ${b.due_date})`])),
  };
}

export async function scenariosView(root, ctx) {
  const weeks = Number(ctx.query.get("weeks") || 13);
  const chosen = ctx.query.get("scenario") || "";
  const writer = ctx.can("erp.cash_scenarios.write");
  const scenarios = await all("/api/erp/cash-flow-scenarios", {}, 500);
  const names = await scenarioNames();
  root.append(pageHead("Cash forecast", writer ? h("button", { type: "button", onclick: async () => {
    const saved = await scenarioDialog(names);
    if (saved) ctx.navigate(`/cash-scenarios?scenario=${saved.id}&weeks=${weeks}`);
  } }, "New scenario") : null), cashNav("/cash-scenarios"));
  const go = (scenario, w) => ctx.navigate(`/cash-scenarios?${new URLSearchParams({ ...(scenario ? { scenario } : {}), weeks: w })}`);
  root.append(h("div", { class: "filters" },
    field("Scenario", select({ id: "scenario-pick", onchange: (e) => go(e.target.value, weeks) }, [["", "Baseline only"], ...scenarios.map((x) => [x.id, x.name])], chosen)),
    field("Weeks", select({ id: "forecast-weeks", onchange: (e) => go(chosen, e.target.value) }, [[8, "8"], [13, "13"], [26, "26"], [52, "52"]], weeks))));
  const comparison = chosen
    ? await explained(api(`/api/erp/cash-flow-scenarios/${chosen}`, { query: { weeks } }), root)
    : await explained(api("/api/erp/cash-flow-scenarios/baseline", { query: { weeks } }).then((baseline) => ({ baseline, forecast: null, scenario: null })), root);
  if (!comparison) return {};
  const { baseline, forecast, scenario } = comparison;
  const cur = baseline.base_currency;
  const opening = baseline.opening_balance;
  root.append(h("p", {}, `Starts from ${money(opening.amount, cur)} `,
    opening.source === "none" ? h("span", { class: "muted" }, "(no bank statement and no opening balance yet)")
      : h("span", { class: "muted" }, `(${opening.source === "entered" ? "entered" : "bank statements"}, ${date(opening.as_of)})`)));
  if (scenario) {
    root.append(h("section", { "aria-labelledby": "scenario-what" }, h("h2", { id: "scenario-what" }, scenario.name),
      scenario.description ? h("p", {}, scenario.description) : null,
      h("ul", {}, scenario.adjustments.map((a) => h("li", {}, describe(a, names, cur)))),
      writer ? h("button", { type: "button", class: "secondary danger-text", onclick: (e) => act(e.currentTarget, async () => {
        if (!(await confirmDialog(`Delete the scenario ${scenario.name}?`, "Delete"))) return;
        await api(`/api/erp/cash-flow-scenarios/${scenario.id}`, { method: "DELETE" });
        toast("Scenario deleted.");
        ctx.navigate("/cash-scenarios");
      }) }, "Delete scenario") : null));
  }
  const labels = baseline.weeks.map((w) => w.week_start);
  const series = [{ name: "Baseline", values: baseline.weeks.map((w) => Number(w.closing)) }];
  if (forecast) series.push({ name: scenario.name, values: forecast.weeks.map((w) => Number(w.closing)) });
  root.append(h("dl", { class: "summary" },
    h("dt", {}, "Lowest balance, baseline"), h("dd", { id: "baseline-lowest" }, lowest(baseline)),
    forecast ? [h("dt", {}, `Lowest balance, ${scenario.name}`), h("dd", { id: "scenario-lowest" }, lowest(forecast))] : null));
  const rows = baseline.weeks.map((w, i) => ({ week: w, other: forecast ? forecast.weeks[i] : null, delta: comparison.weeks ? comparison.weeks[i].delta : null }));
  const week = { label: "Week of", value: (r) => date(r.week.week_start) };
  const columns = forecast
    ? [week, { label: "Baseline", value: (r) => money(r.week.closing, cur), num: true },
      { label: "Scenario", value: (r) => money(r.other.closing, cur), num: true },
      { label: "Difference", value: (r) => money(r.delta, cur), num: true }]
    : [week, { label: "Cash in", value: (r) => money(r.week.inflow, cur), num: true },
      { label: "Cash out", value: (r) => money(r.week.outflow, cur), num: true },
      { label: "Balance", value: (r) => money(r.week.closing, cur), num: true }];
  root.append(h("div", { class: "chart-and-table" },
    balanceChart(forecast ? `Closing balance per week: baseline and ${scenario.name}` : "Closing balance per week", labels, series, cur),
    table(columns, rows, { caption: "Balance per week" })));
  if (baseline.rates.length) {
    root.append(h("p", { class: "muted small" }, "Converted at: ", baseline.rates.map((r) => `${r.currency} ${r.rate} (${date(r.rate_date)})`).join(", ")));
  }
  return { events: ["invoice.", "expense.", "payment."] };
}

// --- recurring items and the opening balance --------------------------------------------------------

const KINDS = ["payroll", "rent", "software", "tax", "other"];
const INTERVALS = ["week", "month", "quarter", "year"];

function recurringDialog(item) {
  const i = item || {};
  return formDialog({
    title: item ? `Change ${item.name}` : "New recurring item",
    build: (body) => body.append(
      field("Name", { name: "name", required: true, maxlength: 200, value: i.name || "" }),
      h("div", { class: "row" },
        field("Kind", select({ name: "kind" }, KINDS.map((k) => [k, label(k)]), i.kind || "payroll")),
        field("Direction", select({ name: "direction" }, [["out", "Money out"], ["in", "Money in"]], i.direction || "out"))),
      h("div", { class: "row" },
        field("Amount", { name: "amount", required: true, inputmode: "decimal", pattern: "^\\d+(\\.\\d{1,4})?$", value: i.amount || "" }),
        field("Currency", { name: "currency", required: true, maxlength: 3, pattern: "^[A-Za-z]{3}$", value: i.currency || "EUR" }),
        field("Every", select({ name: "interval" }, INTERVALS.map((k) => [k, label(k)]), i.interval || "month"))),
      h("div", { class: "row" },
        field("First on", { name: "start_date", type: "date", required: true, value: i.start_date || isoDate() }),
        field("Last on", { name: "end_date", type: "date", value: i.end_date || "" }, "optional"))),
    submit: async (data) => {
      const body = { name: data.name.trim(), kind: data.kind, direction: data.direction, amount: data.amount,
        currency: data.currency.trim().toUpperCase(), interval: data.interval, start_date: data.start_date, end_date: data.end_date || null };
      const saved = item ? await api(`/api/erp/recurring-items/${item.id}`, { method: "PUT", json: body })
        : await api("/api/erp/recurring-items", { method: "POST", json: body });
      toast(`${saved.name} saved.`);
      return saved;
    },
  });
}

function openingDialog() {
  return formDialog({
    title: "Enter the cash on hand",
    build: (body) => body.append(h("div", { class: "row" },
      field("On", { name: "as_of", type: "date", required: true, value: isoDate() }),
      field("Amount", { name: "amount", required: true, inputmode: "decimal", pattern: "^-?\\d+(\\.\\d{1,4})?$" }),
      field("Currency", { name: "currency", required: true, maxlength: 3, pattern: "^[A-Za-z]{3}$", value: "EUR" })),
    field("Note", { name: "note", maxlength: 1000 })),
    submit: async (data) => {
      const saved = await api("/api/erp/cash-flow-scenarios/opening-balance", { method: "POST",
        json: { as_of: data.as_of, amount: data.amount, currency: data.currency.trim().toUpperCase(), note: data.note.trim() || null } });
      toast("Opening balance entered.");
      return saved;
    },
  });
}

export async function recurringItemsView(root, ctx) {
  const writer = ctx.can("erp.recurring_items.write");
  const items = await all("/api/erp/recurring-items", {}, 1000);
  const errors = h("div", { "aria-live": "assertive" });
  root.append(pageHead("Recurring items", writer ? h("button", { type: "button", onclick: async () => { if (await recurringDialog()) ctx.refresh(); } }, "New recurring item") : null),
    cashNav("/recurring-items"), errors,
    table([
      { label: "Name", value: (i) => i.name },
      { label: "Kind", value: (i) => label(i.kind) },
      { label: "Amount", value: (i) => `${i.direction === "in" ? "+" : "−"}${money(i.amount, i.currency)}`, num: true },
      { label: "Every", value: (i) => i.interval },
      { label: "From", value: (i) => date(i.start_date) },
      { label: "Until", value: (i) => (i.end_date ? date(i.end_date) : "open-ended") },
      { label: "", value: (i) => (writer ? h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", "aria-label": `Change ${i.name}`, onclick: async () => { if (await recurringDialog(i)) ctx.refresh(); } }, "Change"),
        h("button", { type: "button", class: "secondary danger-text", "aria-label": `Remove ${i.name}`, onclick: (e) => act(e.currentTarget, async () => {
          if (!(await confirmDialog(`Remove ${i.name}?`, "Remove"))) return;
          await api(`/api/erp/recurring-items/${i.id}`, { method: "DELETE" });
          ctx.refresh();
        }, errors) }, "Remove")) : "") },
    ], items, { empty: "No recurring items yet: add payroll and rent so that the forecast knows them." }));
  const section = h("section", { "aria-labelledby": "opening-title" }, h("h2", { id: "opening-title" }, "Opening balance"));
  root.append(section);
  const opening = await explained(api("/api/erp/cash-flow-scenarios/opening-balance"), section);
  if (opening) {
    section.append(h("p", { id: "opening-balance" }, `${money(opening.amount, opening.currency)} `,
      h("span", { class: "muted" }, opening.source === "none" ? "(nothing yet: the forecast starts at 0)"
        : `(${opening.source === "entered" ? "entered" : "bank statements"}, ${date(opening.as_of)}${opening.note ? `: ${opening.note}` : ""})`)));
  }
  if (writer) section.append(h("button", { type: "button", class: "secondary", onclick: async () => { if (await openingDialog()) ctx.refresh(); } }, "Enter opening balance"));
  return {};
}

// --- exchange rates -------------------------------------------------------------------------------

export async function exchangeRatesView(root, ctx) {
  const writer = ctx.can("erp.exchange_rates.write");
  const page = await api("/api/erp/exchange-rates", { query: { limit: 500 } });
  const errors = h("div", { "aria-live": "assertive" });
  root.append(pageHead("Exchange rates"), cashNav("/exchange-rates"),
    h("p", {}, page.base_currency ? `Rates into the base currency, ${page.base_currency}: what one unit of a currency is worth that day.`
      : "Set up the company profile (its base currency) in Settings first."),
    page.note ? h("p", { class: "notice", role: "status", id: "rates-note" }, page.note) : null, errors);
  if (writer && page.base_currency) {
    const form = h("form", { class: "row", "aria-label": "Enter a rate", novalidate: true },
      field("Currency", { name: "currency", required: true, maxlength: 3, pattern: "^[A-Za-z]{3}$", placeholder: "USD" }),
      field("Date", { name: "rate_date", type: "date", required: true, value: isoDate() }),
      field(`Rate (${page.base_currency})`, { name: "rate", required: true, inputmode: "decimal", pattern: "^\\d+(\\.\\d{1,10})?$" }),
      h("div", { class: "field" }, h("button", { type: "submit", id: "save-rate" }, "Save rate")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!form.reportValidity()) return;
      act(form.querySelector("#save-rate"), async () => {
        const data = Object.fromEntries(new FormData(form));
        await api("/api/erp/exchange-rates", { method: "PUT", json: { currency: data.currency.trim().toUpperCase(), rate_date: data.rate_date, rate: data.rate.trim() } });
        toast("Rate saved.");
        ctx.refresh();
      }, errors);
    });
    const file = h("input", { type: "file", name: "file", accept: ".csv,text/csv", id: "rates-file" });
    const upload = h("button", { type: "button", class: "secondary", onclick: (e) => act(e.currentTarget, async () => {
      if (!file.files.length) throw new Error("Choose a CSV file first.");
      const body = new FormData();
      body.append("file", file.files[0], file.files[0].name);
      const result = await api("/api/erp/exchange-rates/import", { method: "POST", multipart: body });
      toast(`${result.imported} rates imported.`);
      ctx.refresh();
    }, errors) }, "Import CSV");
    root.append(h("h2", {}, "Enter a rate"), form,
      h("h2", {}, "Import"), h("div", { class: "row" }, field("CSV file", file, "columns date,currency,rate with a header row"), h("div", { class: "field" }, upload)));
  }
  root.append(h("h2", {}, "Rates"), table([
    { label: "Date", value: (r) => date(r.rate_date) },
    { label: "Currency", value: (r) => r.currency },
    { label: "Rate", value: (r) => `${Number(r.rate)} ${r.base_currency}`, num: true },
    { label: "Source", value: (r) => label(r.source) },
    { label: "", value: (r) => (writer ? h("button", { type: "button", class: "secondary danger-text", "aria-label": `Remove the ${r.currency} rate of ${r.rate_date}`,
      onclick: (e) => act(e.currentTarget, async () => {
        await api(`/api/erp/exchange-rates/${r.id}`, { method: "DELETE" });
        ctx.refresh();
      }, errors) }, "Remove") : "") },
  ], page.items, { empty: "No exchange rates yet." }));
  return {};
}
