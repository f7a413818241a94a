// Finance: the books. The statements (trial balance, profit and loss, balance sheet), the chart of accounts, the
// journal (with manual entries) and the month-end close. Finance writes; viewer reads; the others do not see them.

import { api, all, optional, itemsOf } from "../api.js";
import { h, field, select, money, date, dateTime, badge, formDialog, toast, table, act, isoDate, label, errorBox } from "../ui.js";
import { pageHead } from "./common.js";
import { downloadCsv } from "./csv.js";

const TABS = [["/books", "Statements"], ["/books/vat", "VAT report"], ["/books/journal", "Journal"], ["/books/accounts", "Chart of accounts"], ["/books/periods", "Periods"]];
const TYPES = ["asset", "liability", "equity", "income", "expense"];
const STATEMENTS = [["trial-balance", "Trial balance"], ["profit-and-loss", "Profit and loss"], ["balance-sheet", "Balance sheet"]];
const BASES = [["currency", "One currency, as posted"], ["base", "All currencies, in the base currency"]];

function tabs(current) {
  return h("nav", { class: "tabs", "aria-label": "Books" }, TABS.map(([path, text]) =>
    h("a", { href: `#${path}`, "aria-current": path === current ? "page" : null }, text)));
}

function amount(value, currency) {
  return Number(value) ? money(value, currency) : "—";
}

// The date range and currency of a Books page (with the page's own fields before and after), shown on submit.
function rangeForm(ctx, path, ariaLabel, params, ...extra) {
  const [before, ...after] = extra;
  const form = h("form", { class: "panel filters", "aria-label": ariaLabel },
    h("div", { class: "row" },
      before,
      field("From", { name: "date_from", type: "date", value: params.date_from }),
      field("To", { name: "date_to", type: "date", value: params.date_to }),
      field("Currency", { name: "currency", value: params.currency, maxlength: 3, pattern: "^[A-Z]{3}$", placeholder: "base currency" }),
      ...after),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Show")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    const data = new URLSearchParams([...new FormData(form)].filter(([, v]) => v !== ""));
    ctx.navigate(`${path}?${data}`);
  });
  return form;
}

// --- statements ---

function statementRows(rows, currency, { columns, sided = false } = {}) {
  return table([
    { label: "Code", value: (r) => r.code },
    { label: "Account", value: (r) => r.name },
    ...(columns ? [{ label: columns === "project" ? "Project" : "Cost center", value: (r) => r.column || "—" }] : []),
    { label: "Debit", value: (r) => amount(r.debit, currency), num: true },
    { label: "Credit", value: (r) => amount(r.credit, currency), num: true },
    sided
      ? { label: "Balance", value: (r) => sidedBalance(r, currency), num: true }
      : { label: "Balance", value: (r) => money(r.balance, currency), num: true },
  ], rows, { empty: "Nothing posted in this range." });
}

// The trial balance mixes debit- and credit-normal accounts in one list, so its balance says which side it is on
// ("Dr"/"Cr"), as an accountant reads it; the other statements group by type and show the normal direction.
const DEBIT_NORMAL = new Set(["asset", "expense"]);
function sidedBalance(row, currency) {
  const negative = String(row.balance).startsWith("-");
  const magnitude = negative ? String(row.balance).slice(1) : String(row.balance);
  if (/^0*(\.0*)?$/.test(magnitude)) return money("0", currency);
  const debitSide = DEBIT_NORMAL.has(row.type) !== negative;
  return `${money(magnitude, currency)} ${debitSide ? "Dr" : "Cr"}`;
}

function totalLine(text, value, currency, id) {
  return h("p", { class: "total" }, `${text}: `, h("strong", { "data-testid": id }, money(value, currency)));
}

// What a base-currency statement left out: lines without a rate on their day, per currency, in that currency.
function unconvertedNote(report) {
  if (!report.unconverted?.length) return null;
  return h("div", { class: "notice", role: "status", "data-testid": "unconverted" },
    h("p", {}, "Not converted (no exchange rate on their day), so left out of these figures:"),
    h("ul", {}, report.unconverted.map((u) => h("li", {},
      `${u.currency}: ${money(u.debit, u.currency)} debit, ${money(u.credit, u.currency)} credit in ${u.lines} line${u.lines === 1 ? "" : "s"}`))),
    h("p", { class: "muted small" }, "Enter the rates (Cash forecast, Exchange rates): postings from then on are converted."));
}

function statementBody(kind, report, columns) {
  const cur = report.currency;
  const others = report.other_currencies.length
    ? h("p", { class: "muted small" }, `Also posted in ${report.other_currencies.join(", ")}: choose that currency, or all currencies in the base currency, to see them.`)
    : unconvertedNote(report);
  if (kind === "trial-balance") {
    return [statementRows(report.rows, cur, { columns, sided: true }),
      totalLine("Total debits", report.total_debit, cur, "total-debit"), totalLine("Total credits", report.total_credit, cur, "total-credit"), others];
  }
  if (kind === "profit-and-loss") {
    return [h("h3", {}, "Income"), statementRows(report.income, cur, { columns }), totalLine("Total income", report.total_income, cur, "total-income"),
      h("h3", {}, "Expenses"), statementRows(report.expenses, cur, { columns }), totalLine("Total expenses", report.total_expenses, cur, "total-expenses"),
      totalLine("Result", report.result, cur, "result"),
      columns ? table([{ label: columns === "project" ? "Project" : "Cost center", value: ([k]) => k || "None" },
        { label: "Result", value: ([, v]) => money(v, cur), num: true }], Object.entries(report.by_column), { empty: "No result by column." }) : null,
      others];
  }
  return [h("h3", {}, "Assets"), statementRows(report.assets, cur), totalLine("Total assets", report.total_assets, cur, "total-assets"),
    h("h3", {}, "Liabilities"), statementRows(report.liabilities, cur),
    h("h3", {}, "Equity"), statementRows(report.equity, cur), totalLine("Result to date (part of equity)", report.result_to_date, cur, "result-to-date"),
    totalLine("Total liabilities and equity", report.total_liabilities_and_equity, cur, "total-liabilities-equity"), others];
}

export async function booksView(root, ctx) {
  const kind = ctx.query.get("statement") || "trial-balance";
  const today = isoDate();
  const firstOfYear = `${today.slice(0, 4)}-01-01`;
  const params = {
    date_from: ctx.query.get("date_from") ?? (kind === "balance-sheet" ? "" : firstOfYear),
    date_to: ctx.query.get("date_to") || today,
    currency: ctx.query.get("currency") || "",
    columns: ctx.query.get("columns") || "",
    basis: ctx.query.get("basis") === "base" ? "base" : "",
  };
  root.append(pageHead("Books"), tabs("/books"));
  // The currency applies to one currency as posted; with all currencies in the base currency it is not sent.
  root.append(rangeForm(ctx, "/books", "Choose a statement", params,
    field("Statement", select({ name: "statement", id: "statement-kind" }, STATEMENTS, kind)),
    field("Currencies", select({ name: "basis" }, BASES, params.basis || "currency")),
    field("Columns", select({ name: "columns" }, [["", "None"], ["project", "Per project"], ["cost_center", "Per cost center"]], params.columns))));
  const query = Object.fromEntries(Object.entries(params).filter(([k, v]) => v
    && !(kind === "balance-sheet" && !["date_to", "currency", "basis"].includes(k)) && !(k === "currency" && params.basis)));
  const out = h("section", { class: "panel", "aria-labelledby": "statement-title", id: "statement" });
  root.append(out);
  try {
    const report = await api(`/api/erp/reports/${kind}`, { query });
    const title = STATEMENTS.find(([k]) => k === kind)[1];
    const range = kind === "balance-sheet" ? `as of ${date(report.as_of)}` : `${report.date_from ? date(report.date_from) : "from the start"} – ${date(report.date_to)}`;
    const inWhat = report.basis === "base" ? `all currencies in ${report.currency}` : `in ${report.currency}`;
    out.append(h("h2", { id: "statement-title" }, `${title}, ${range}, ${inWhat}`),
      ...statementBody(kind, report, kind === "balance-sheet" ? "" : params.columns).filter(Boolean));
  } catch (error) {
    // Without a currency and before the company profile names its base currency, the page asks for one.
    const noCurrency = error.status === 422 && error.problem.field === "currency" && !params.currency;
    out.append(h("h2", { id: "statement-title" }, "Statement"), noCurrency
      ? h("p", { class: "notice", role: "status" }, "Choose a currency above: the company profile (Settings) has no base currency yet.")
      : h("p", { class: "error", role: "alert" }, error.message));
  }
}

// --- VAT report, and the journal export for the accountant ---

function rate(value) {
  return value === null ? "no rate" : `${Number(value)} %`;
}

function vatRows(rows, currency, { base = "Taxable base", tax = "VAT" } = {}) {
  return table([
    { label: "Rate", value: (r) => rate(r.tax_rate) },
    { label: "Category", value: (r) => (r.tax_category ? label(r.tax_category) : "—") },
    { label: base, value: (r) => money(r.taxable_base, currency), num: true },
    { label: tax, value: (r) => money(r.tax, currency), num: true },
  ], rows, { empty: "None." });
}

function vatTotals(totals, currency, suffix) {
  return h("dl", { class: "summary" },
    h("dt", {}, "Output VAT"), h("dd", { "data-testid": `output-tax${suffix}` }, money(totals.output_tax, currency)),
    h("dt", {}, "Input VAT"), h("dd", { "data-testid": `input-tax${suffix}` }, money(totals.input_tax, currency)),
    h("dt", {}, "Reverse charge owed"), h("dd", {}, money(totals.reverse_charge_output_tax, currency)),
    h("dt", {}, "Reverse charge deducted"), h("dd", {}, money(totals.reverse_charge_input_tax, currency)),
    h("dt", {}, "Net VAT payable"), h("dd", { "data-testid": `net-payable${suffix}` }, h("strong", {}, money(totals.net_payable, currency))));
}

function vatPeriod(p, currency) {
  const id = `vat-${p.period}`;
  return h("section", { class: "vat-period", "aria-labelledby": id, dataset: { period: p.period } },
    h("h3", { id }, `${p.period} (${date(p.date_from)} – ${date(p.date_to)})`),
    h("h4", {}, "Output VAT: invoices and credit notes"), vatRows(p.output, currency),
    h("h4", {}, "Reverse-charge sales (VAT due by the buyer)"), vatRows(p.reverse_charge_sales, currency, { tax: "VAT charged" }),
    h("h4", {}, "Input VAT: vendor bills and expenses"), vatRows(p.input, currency),
    h("h4", {}, "Reverse-charge purchases (self-assessed)"), table([
      { label: "Rate", value: (r) => rate(r.tax_rate) },
      { label: "Taxable base", value: (r) => money(r.taxable_base, currency), num: true },
      { label: "VAT owed", value: (r) => money(r.output_tax, currency), num: true },
      { label: "VAT deducted", value: (r) => money(r.input_tax, currency), num: true },
    ], p.reverse_charge_purchases, { empty: "None." }),
    vatTotals(p.totals, currency, `-${p.period}`));
}

function journalDownloads(params) {
  const errors = h("div", { "aria-live": "assertive" });
  const button = (format, text) => h("button", { type: "button", class: "secondary", id: `export-${format}`, onclick: async (event) => {
    const target = event.currentTarget;
    errors.replaceChildren();
    target.disabled = true;
    try {
      const query = { format, date_to: params.date_to, ...(params.date_from ? { date_from: params.date_from } : {}), ...(params.currency ? { currency: params.currency } : {}) };
      toast(`Exported ${await downloadCsv("/api/erp/exports/journal", query)}.`);
    } catch (error) {
      errors.replaceChildren(errorBox(error));
    } finally {
      target.disabled = false;
    }
  } }, text);
  return h("section", { class: "panel", "aria-labelledby": "journal-export-title" }, h("h2", { id: "journal-export-title" }, "Journal for the accountant"),
    h("p", { class: "muted small" }, "Every journal line of the chosen period: as CSV (our layout, every currency unless one is chosen), or as a DATEV Buchungsstapel (EXTF, one currency, one fiscal year). The same period gives the same file every time."),
    h("div", { class: "actions" }, button("csv", "Download journal (CSV)"), button("datev", "Download journal (DATEV)")), errors);
}

export async function vatView(root, ctx) {
  const today = isoDate();
  const params = {
    date_from: ctx.query.get("date_from") ?? `${today.slice(0, 7)}-01`,
    date_to: ctx.query.get("date_to") || today,
    currency: ctx.query.get("currency") || "",
    period: ctx.query.get("period") || "month",
  };
  root.append(pageHead("Books"), tabs("/books/vat"));
  root.append(rangeForm(ctx, "/books/vat", "Choose the VAT period", params, null,
    field("Per", select({ name: "period" }, [["month", "Month"], ["quarter", "Quarter"]], params.period))));
  const out = h("section", { class: "panel", "aria-labelledby": "vat-title", id: "vat-report" });
  root.append(out);
  try {
    const report = await api("/api/erp/reports/vat", { query: Object.fromEntries(Object.entries(params).filter(([, v]) => v)) });
    const cur = report.currency;
    // DOM append writes null as the text "null": the optional parts are filtered out.
    out.append(...[h("h2", { id: "vat-title" }, `VAT report, ${report.date_from ? date(report.date_from) : "from the start"} – ${date(report.date_to)}, in ${cur}`),
      vatTotals(report.totals, cur, ""),
      ...(report.periods.length ? report.periods.map((p) => vatPeriod(p, cur)) : [h("p", {}, "No VAT posted in this range.")]),
      h("ul", { class: "muted small" }, report.notes.map((n) => h("li", {}, n))),
      report.other_currencies.length ? h("p", { class: "muted small" }, `Also posted in ${report.other_currencies.join(", ")}: choose that currency to see them.`) : null].filter(Boolean));
  } catch (error) {
    const noCurrency = error.status === 422 && error.problem.field === "currency" && !params.currency;
    out.append(h("h2", { id: "vat-title" }, "VAT report"), noCurrency
      ? h("p", { class: "notice", role: "status" }, "Choose a currency above: the company profile (Settings) has no base currency yet.")
      : h("p", { class: "error", role: "alert" }, error.message));
  }
  root.append(journalDownloads(params));
}

// --- chart of accounts ---

function accountDialog(existing) {
  return formDialog({
    title: existing ? `Edit account ${existing.code}` : "New account",
    build: (body) => body.append(
      h("div", { class: "row" },
        field("Code", { name: "code", required: true, maxlength: 20, value: existing?.code || "", pattern: "^[A-Za-z0-9][A-Za-z0-9_.\\-]*$" }),
        field("Name", { name: "name", required: true, maxlength: 200, value: existing?.name || "" })),
      existing ? h("p", { class: "muted small" }, `Type: ${existing.type}${existing.currency ? `, kept in ${existing.currency}` : ""} (fixed once created).`)
        : h("div", { class: "row" },
          field("Type", select({ name: "type", required: true }, TYPES.map((t) => [t, label(t)]), "expense")),
          field("Currency", { name: "currency", maxlength: 3, pattern: "^[A-Z]{3}$", placeholder: "any" }, "leave empty for any currency")),
      field("Description", h("textarea", { name: "description", maxlength: 2000 }, existing?.description || ""))),
    submit: async (data) => {
      const body = { code: data.code, name: data.name, description: data.description || null };
      if (existing) return api(`/api/erp/accounts/${existing.id}`, { method: "PATCH", json: body });
      return api("/api/erp/accounts", { method: "POST", json: { ...body, type: data.type, currency: data.currency || null } });
    },
  });
}

export async function accountsView(root, ctx) {
  const may = ctx.can("erp.accounts.write");
  root.append(pageHead("Books", may ? h("button", { type: "button", id: "new-account",
    onclick: async () => { if (await accountDialog(null)) { toast("Account added."); ctx.refresh(); } } }, "New account") : null), tabs("/books/accounts"));
  const accounts = await all("/api/erp/accounts", {}, 2000);
  const toggle = (a) => (e) => act(e.currentTarget, async () => {
    await api(`/api/erp/accounts/${a.id}`, { method: "PATCH", json: { active: !a.active } });
    toast(a.active ? `${a.code} deactivated.` : `${a.code} active again.`);
    ctx.refresh();
  });
  root.append(h("section", { class: "panel", "aria-labelledby": "chart-title" }, h("h2", { id: "chart-title" }, "Chart of accounts"),
    h("p", { class: "muted small" }, "Accounts marked \u201cdefault\u201d receive the automatic postings: they can be renamed or renumbered, not deactivated."),
    table([
      { label: "Code", value: (a) => a.code },
      { label: "Name", value: (a) => h("span", {}, a.name, a.description ? h("div", { class: "muted small" }, a.description) : null) },
      { label: "Type", value: (a) => label(a.type) },
      { label: "Currency", value: (a) => a.currency || "any" },
      { label: "Status", value: (a) => h("span", {}, badge(a.active ? "active" : "inactive"), a.role ? h("span", { class: "muted small" }, " default") : null) },
      ...(may ? [{ label: "Actions", value: (a) => h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", "aria-label": `Edit account ${a.code} ${a.name}`,
          onclick: async () => { if (await accountDialog(a)) { toast("Account saved."); ctx.refresh(); } } }, "Edit"),
        a.role ? null : h("button", { type: "button", class: "secondary", "aria-label": `${a.active ? "Deactivate" : "Activate"} account ${a.code} ${a.name}`, onclick: toggle(a) },
          a.active ? "Deactivate" : "Activate")) }] : []),
    ], accounts, { rowAttrs: (a) => ({ dataset: { account: a.code } }) })));
}

// --- journal ---

function manualEntryDialog(accounts) {
  const choices = [["", "Choose an account"], ...accounts.filter((a) => a.active).map((a) => [a.id, `${a.code} ${a.name}`])];
  return formDialog({
    title: "New journal entry",
    submitLabel: "Post the entry",
    build: (body) => {
      const lines = h("div", { id: "entry-lines" });
      const addLine = () => {
        const n = lines.children.length + 1;
        lines.append(h("fieldset", { class: "row entry-line" }, h("legend", {}, `Line ${n}`),
          field(`Account, line ${n}`, select({ name: `account_${n}`, required: true }, choices, "")),
          field(`Debit, line ${n}`, { name: `debit_${n}`, inputmode: "decimal", pattern: "^\\d+(\\.\\d{1,4})?$" }),
          field(`Credit, line ${n}`, { name: `credit_${n}`, inputmode: "decimal", pattern: "^\\d+(\\.\\d{1,4})?$" })));
      };
      addLine(); addLine();
      body.append(
        h("div", { class: "row" },
          field("Date", { name: "entry_date", type: "date", required: true, value: isoDate() }),
          field("Currency", { name: "currency", required: true, value: "EUR", maxlength: 3, pattern: "^[A-Z]{3}$" })),
        field("Memo", { name: "memo", required: true, maxlength: 2000 }, "why this adjustment"),
        lines, h("button", { type: "button", class: "secondary", onclick: addLine }, "Add a line"),
        h("p", { class: "muted small" }, "Debits must equal credits. The entry is recorded with your name."));
    },
    submit: async (data) => {
      const lines = [];
      for (let n = 1; data[`account_${n}`] !== undefined; n += 1) {
        if (!data[`account_${n}`]) continue;
        lines.push({ account_id: data[`account_${n}`], currency: data.currency, debit: data[`debit_${n}`] || "0", credit: data[`credit_${n}`] || "0" });
      }
      const entry = await api("/api/erp/journal-entries", { method: "POST", json: { entry_date: data.entry_date, memo: data.memo, lines } });
      toast(`Entry ${entry.number} posted.`);
      return entry;
    },
  });
}

// A line is a debit or a credit in its currency; an exchange difference is 0 there and only in the base currency.
function lineAmount(l) {
  if (Number(l.debit)) return `debit ${money(l.debit, l.currency)}`;
  if (Number(l.credit)) return `credit ${money(l.credit, l.currency)}`;
  return Number(l.debit_base) ? `debit ${Number(l.debit_base).toFixed(2)} in the base currency` : `credit ${Number(l.credit_base).toFixed(2)} in the base currency`;
}

function entryLines(entry) {
  return h("ul", { class: "plain small" }, entry.lines.map((l) => h("li", {}, `${l.account_code} ${l.account_name}: `, lineAmount(l))));
}

export async function journalView(root, ctx) {
  const may = ctx.can("erp.journal_entries.write");
  const accounts = may ? await all("/api/erp/accounts", {}, 2000) : [];
  root.append(pageHead("Books", may ? h("button", { type: "button", id: "new-entry",
    onclick: async () => { if (await manualEntryDialog(accounts)) ctx.refresh(); } }, "New journal entry") : null), tabs("/books/journal"));
  const page = await api("/api/erp/journal-entries", { query: { limit: 100 } });
  root.append(h("section", { class: "panel", "aria-labelledby": "journal-title" }, h("h2", { id: "journal-title" }, `Journal (${page.total} ${page.total === 1 ? "entry" : "entries"}, newest first)`),
    table([
      { label: "No.", value: (e) => String(e.number), num: true },
      { label: "Date", value: (e) => h("span", {}, date(e.entry_date), e.fact_date !== e.entry_date ? h("div", { class: "muted small" }, `happened ${date(e.fact_date)}`) : null) },
      { label: "What", value: (e) => h("span", {}, e.memo || label(e.kind), h("div", { class: "muted small" }, `${label(e.source_type)} · ${label(e.kind)}${e.created_by ? ` · by ${e.created_by_name || e.created_by}` : ""}`)) },
      { label: "Lines", value: entryLines },
      { label: "Posted", value: (e) => dateTime(e.created_at) },
    ], itemsOf(page), { empty: "Nothing posted yet: issuing an invoice posts its first entry.", rowAttrs: (e) => ({ dataset: { entry: String(e.number) } }) })));
}

// --- periods ---

function reopenDialog(month) {
  return formDialog({
    title: `Reopen ${month}`,
    submitLabel: "Reopen",
    danger: true,
    build: (body) => body.append(field("Reason", h("textarea", { name: "reason", required: true, minlength: 3, maxlength: 2000 }), "logged with your name")),
    submit: (data) => api(`/api/erp/periods/${month}/reopen`, { method: "POST", json: { reason: data.reason } }),
  });
}

export async function periodsView(root, ctx) {
  const mayClose = ctx.can("erp.periods.close");
  const mayReopen = ctx.can("erp.periods.reopen");
  root.append(pageHead("Books"), tabs("/books/periods"));
  const result = await optional(api("/api/erp/periods", { query: { months: 24 } }));
  const thisMonth = isoDate().slice(0, 7);
  const close = (p) => (e) => act(e.currentTarget, async () => {
    await api(`/api/erp/periods/${p.month}/close`, { method: "POST", json: {} });
    toast(`${p.month} closed.`);
    ctx.refresh();
  });
  root.append(h("section", { class: "panel", "aria-labelledby": "periods-title" }, h("h2", { id: "periods-title" }, "Month-end close"),
    h("p", { class: "muted small" }, "A closed month takes no postings: a manual entry dated in it is refused, and a fact that happened in it (a payment recorded late) is booked on the first day of the next open month."),
    table([
      { label: "Month", value: (p) => p.month },
      { label: "Status", value: (p) => badge(p.status) },
      { label: "History", value: (p) => (p.log.length ? h("ul", { class: "plain small" }, p.log.map((x) =>
        h("li", {}, `${label(x.action)} ${dateTime(x.created_at)} by ${x.actor_name || x.actor_id}${x.reason ? `: ${x.reason}` : ""}`))) : "—") },
      { label: "Actions", value: (p) => (p.status === "open" ? (mayClose && p.month < thisMonth
        ? h("button", { type: "button", "aria-label": `Close ${p.month}`, onclick: close(p) }, "Close") : "")
        : mayReopen ? h("button", { type: "button", class: "secondary", "aria-label": `Reopen ${p.month}`,
          onclick: async () => { if (await reopenDialog(p.month)) { toast(`${p.month} reopened.`); ctx.refresh(); } } }, "Reopen") : "") },
    ], result ? result.items : [], { empty: "The periods could not be read.", rowAttrs: (p) => ({ dataset: { month: p.month } }) })));
}
