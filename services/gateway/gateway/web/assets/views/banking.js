// Finance: bank statements (import, preview, CSV column mappings) and reconciliation (match by hand, link to a
// payment typed by hand, set aside booked against an account: every line ends up in the books).

import { api, optional, itemsOf, ApiError } from "../api.js";
import { h, field, select, money, date, dateTime, badge, formDialog, toast, table, act, label } from "../ui.js";
import { pageHead } from "./common.js";

const FORMATS = { camt053: "CAMT.053", mt940: "MT940", csv: "CSV" };
// The last import's result: a live refresh (its payments' events) re-renders the page, and must not take it away.
let lastResult = null;

const LINE_STATUSES = [["unmatched", "Waiting for a person"], ["debit", "Money out, waiting"], ["matched", "Matched"], ["ignored", "Set aside to an account"], ["", "All"]];
// The chart of accounts (active ones), for the account a set-aside line is booked against, and each bank account's
// own ledger account (never offered for its own lines: the API refuses it): loaded with the page.
let accounts = [];
let bankLedger = new Map();
const SUSPENSE_ROLE = "suspense";

function accountName(id) {
  const found = accounts.find((a) => a.id === id);
  return found ? `${found.code} ${found.name}` : "an account";
}

function lineName(line) {
  if (line.direction === "debit") return `${money(line.amount, line.currency)} to ${line.counterparty_name || line.remittance || "an unknown payee"}`;
  return `${money(line.amount, line.currency)} from ${line.counterparty_name || "an unknown payer"}`;
}

// What an import did, in numbers a person checks against the bank's own.
function importResult(result) {
  const counts = [["lines", "Lines"], ["matched", "Matched"], ["unmatched", "Waiting"], ["debits", "Money out"], ["duplicates", "Already imported"]];
  const before = result.statements.every((s) => s.already_imported);
  return h("div", { id: "import-result", class: "panel", role: "status" },
    h("h3", {}, before ? "Imported before: nothing recorded again" : `Imported ${result.statements.length === 1 ? "a statement" : `${result.statements.length} statements`}`),
    h("div", { class: "kpis" }, counts.map(([key, text]) => h("section", { class: "kpi", "aria-label": text },
      h("h2", {}, text), h("div", { class: "value", "data-testid": `import-${key}` }, String(result[key]))))),
    result.overpaid ? h("p", { class: "notice" }, `${result.overpaid} of the waiting lines paid an invoice and left money over: refund it or apply it elsewhere.`) : null,
    h("p", { class: "muted small" }, `${result.payments} payment${result.payments === 1 ? "" : "s"} recorded on invoices.`));
}

function previewResult(preview) {
  return h("div", { id: "import-result", class: "panel", role: "status" },
    h("h3", {}, `Preview (${FORMATS[preview.format] || preview.format}): nothing imported yet`),
    preview.statements.map((s) => h("p", {}, `${s.account}: ${s.lines} lines (${s.credits} credits)`,
      s.already_imported ? `, ${s.already_imported} imported before` : "",
      s.closing_balance !== null ? `; closing balance ${money(s.closing_balance, s.currency)}` : "")),
    table([
      { label: "Booked", value: (l) => date(l.booking_date) },
      { label: "Payer or payee", value: (l) => l.counterparty_name || "—" },
      { label: "Text", value: (l) => l.remittance || "—" },
      { label: "RF reference", value: (l) => l.rf_references.join(", ") || "—" },
      { label: "Amount", value: (l) => `${l.direction === "debit" ? "−" : ""}${money(l.amount, l.currency)}`, num: true },
      { label: "New", value: (l) => (l.already_imported ? "imported before" : "new") },
    ], preview.lines, { empty: "The statement has no lines." }));
}

function importPanel(ctx, mappings) {
  const file = h("input", { type: "file", name: "file", id: "statement-file", accept: ".xml,.sta,.mt940,.txt,.csv", required: true });
  const mapping = select({ id: "statement-mapping", name: "mapping_id" },
    [["", "CAMT.053 or MT940 (recognised by their content)"], ...mappings.map((m) => [m.id, `CSV: ${m.name} (${m.account})`])], "");
  const out = h("div", { "aria-live": "polite" }, lastResult ? importResult(lastResult) : null);
  const send = (path) => async (event) => act(event.currentTarget, async () => {
    if (!file.files.length) { file.reportValidity(); return; }
    const body = new FormData();
    body.append("file", file.files[0], file.files[0].name);
    if (mapping.value) body.append("mapping_id", mapping.value);
    const result = await api(path, { method: "POST", multipart: body });
    if (path.endsWith("/preview")) { out.replaceChildren(previewResult(result)); return; }
    lastResult = result;
    out.replaceChildren(importResult(result));
    toast(result.statements.every((s) => s.already_imported) ? "This statement was imported before." : `Imported: ${result.matched} matched, ${result.unmatched} waiting.`);
    await refreshLists(ctx);
  }, out);
  return h("section", { class: "panel", "aria-labelledby": "bank-import" },
    h("h2", { id: "bank-import" }, "Import a statement"),
    h("p", { class: "muted small" }, "ISO 20022 CAMT.053 (XML) and SWIFT MT940 are read as they are; a bank's CSV export needs its column mapping. Importing the same statement again records nothing twice."),
    h("div", { class: "row" }, field("Statement file", file), field("Format", mapping)),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", id: "preview-statement", onclick: send("/api/erp/bank-statements/preview") }, "Preview"),
      " ", h("button", { type: "button", id: "import-statement", onclick: send("/api/erp/bank-statements") }, "Import")),
    out);
}

// The lists below the import panel, re-read after an import or a reconciliation without leaving the page.
let lists = null;

async function refreshLists(ctx) {
  if (!lists) return;
  const [lines, statements] = await Promise.all([
    api("/api/erp/bank-lines", { query: { status: lists.status, limit: 100 } }),
    api("/api/erp/bank-statements", { query: { limit: 20 } }),
  ]);
  lists.lines.replaceChildren(linesTable(ctx, itemsOf(lines), lists.status));
  lists.statements.replaceChildren(statementsTable(itemsOf(statements)));
}

function linesTable(ctx, rows, status) {
  const may = ctx.can("erp.bank_lines.reconcile");
  const after = (promise) => promise.then(async (done) => { if (done) await refreshLists(ctx); });
  return table([
    { label: "Booked", value: (l) => date(l.booking_date) },
    { label: "Payer or payee", value: (l) => h("span", {}, l.counterparty_name || "—", l.counterparty_iban ? h("div", { class: "muted small" }, l.counterparty_iban) : null) },
    { label: "Text", value: (l) => [l.structured_reference, l.remittance].filter(Boolean).join(" · ") || "—" },
    { label: "Amount", value: (l) => h("span", {}, `${l.direction === "debit" ? "−" : ""}${money(l.amount, l.currency)}`,
      l.status === "unmatched" && l.open_amount !== l.amount ? h("div", { class: "muted small" }, `${money(l.open_amount, l.currency)} open`) : null), num: true },
    // A set-aside credit or a booked debit is "ignored" in the API; on screen it says what happened to it.
    ...(status ? [] : [{ label: "Status", value: (l) => Object.assign(badge(l.status), { textContent: l.status === "ignored" ? "Booked to an account" : label(l.status) }) }]),
    { label: "Paid", value: (l) => (l.matches.length ? l.matches.map((m) => h("div", {}, h("a", { href: `#/invoices/${m.invoice_id}` }, m.invoice_number || "invoice"), ` ${money(m.amount, l.currency)} (${label(m.method)})`))
      : l.bill_payment_id ? "A bill payment" : "—") },
    { label: "Note", value: (l) => h("span", {}, l.note || "—", l.ledger_account_id ? h("div", { class: "muted small" }, `Booked to ${accountName(l.ledger_account_id)}`) : null) },
    ...(may && ["unmatched", "ignored", "debit", ""].includes(status) ? [{ label: "Actions", value: (l) => (l.status === "unmatched" ? h("div", { class: "actions" },
      h("button", { type: "button", "aria-label": `Match ${lineName(l)}`, onclick: () => after(matchDialog(l)) }, "Match"),
      h("button", { type: "button", class: "secondary", "aria-label": `Typed payment: ${lineName(l)}`, title: "A payment typed in by hand before the statement came", onclick: () => after(paymentDialog(l)) }, "Typed payment"),
      h("button", { type: "button", class: "secondary", "aria-label": `Set aside ${lineName(l)}: not an invoice payment`, title: "Not an invoice payment", onclick: () => after(ignoreDialog(l)) }, "Set aside"),
    ) : l.status === "debit" ? h("div", { class: "actions" },
      h("button", { type: "button", "aria-label": `Bill payment: ${lineName(l)}`, title: "A vendor bill's payment recorded in Bills", onclick: () => after(billPaymentDialog(l)) }, "Bill payment"),
      h("button", { type: "button", class: "secondary", "aria-label": `Book to account: ${lineName(l)}`, onclick: () => after(ignoreDialog(l)) }, "Book to account"),
    ) : l.status === "ignored" ? h("button", { type: "button", class: "secondary", "aria-label": `Reopen ${lineName(l)}`,
      onclick: (e) => act(e.currentTarget, async () => { await api(`/api/erp/bank-lines/${l.id}/reopen`, { method: "POST" }); toast("Back in the queue."); await refreshLists(ctx); }) }, "Reopen") : "") }] : []),
  ], rows, { empty: status === "unmatched" ? "Nothing waits: every credit is reconciled." : status === "debit" ? "No money out waits: every debit is in the books." : "No lines.", rowAttrs: (l) => ({ dataset: { line: l.id } }) });
}

function statementsTable(rows) {
  return table([
    { label: "Imported", value: (s) => dateTime(s.created_at) },
    { label: "Account", value: (s) => s.account },
    { label: "Statement", value: (s) => `${FORMATS[s.format] || s.format}${s.statement_id ? ` ${s.statement_id}` : ""}` },
    { label: "Booked", value: (s) => (s.first_booking_date ? `${date(s.first_booking_date)} – ${date(s.last_booking_date)}` : "—") },
    { label: "Lines", value: (s) => String(s.line_count), num: true },
    { label: "Matched", value: (s) => String(s.matched_count), num: true },
    { label: "Waiting now", value: (s) => String(s.waiting), num: true },
    { label: "Closing balance", value: (s) => (s.closing_balance !== null ? money(s.closing_balance, s.currency) : "—"), num: true },
  ], rows, { empty: "No statement imported yet." });
}

function matchDialog(line) {
  return formDialog({
    title: `Match ${lineName(line)}`,
    submitLabel: "Record the payments",
    build: async (body, form) => {
      const left = h("strong", { id: "match-left" });
      const rows = h("div", { id: "match-invoices" });
      const recount = () => {
        const given = [...rows.querySelectorAll("input[data-invoice]")].reduce((sum, input) => sum + (Number(input.value) || 0), 0);
        left.textContent = money(Number(line.open_amount) - given, line.currency);
      };
      const addInvoice = (invoice, reasons, amount = "") => {
        if (rows.querySelector(`input[data-invoice="${invoice.invoice_id}"]`)) return;
        const input = h("input", { name: `amount:${invoice.invoice_id}`, inputmode: "decimal", value: amount, dataset: { invoice: invoice.invoice_id }, oninput: recount });
        rows.append(field(`Amount for ${invoice.number}`, input,
          `${invoice.client_name}, ${money(invoice.balance_due, invoice.currency)} due${reasons.length ? ` (${reasons.join(", ")})` : ""}`));
        recount();
      };
      const number = h("input", { id: "match-number", placeholder: "INV-2026-00042" });
      const found = h("div", { "aria-live": "polite" });
      const find = h("button", { type: "button", class: "secondary", onclick: (e) => act(e.currentTarget, async () => {
        const page = await api("/api/erp/invoices", { query: { number: number.value.trim(), limit: 1 } });
        const [invoice] = itemsOf(page);
        if (!invoice || !["issued", "partially_paid"].includes(invoice.status)) { found.replaceChildren(h("p", { class: "notice" }, "No open invoice has this number.")); return; }
        found.replaceChildren();
        addInvoice({ invoice_id: invoice.id, number: invoice.number, client_name: "", balance_due: invoice.balance_due, currency: invoice.currency }, []);
      }, found) }, "Add");
      body.append(
        h("p", { class: "muted" }, `Booked ${date(line.booking_date)}. ${line.remittance || ""}`),
        h("p", {}, "Left to allocate: ", left),
        rows,
        h("div", { class: "row" }, field("Another invoice by number", number), h("div", { class: "field" }, h("span", {}, " "), find)),
        found,
        field("Note (optional)", h("textarea", { name: "note", maxlength: 2000 })));
      const candidates = await api(`/api/erp/bank-lines/${line.id}/candidates`).catch(() => []);
      const exact = candidates.filter((c) => c.reasons.includes("amount"));
      candidates.slice(0, 8).forEach((c) => addInvoice(c, c.reasons.map(label), exact.length === 1 && c === exact[0] ? line.open_amount : ""));
      if (!candidates.length) rows.append(h("p", { class: "muted" }, "No invoice suggests itself: add one by its number."));
      recount();
      form.querySelector("input[data-invoice]")?.focus();
    },
    submit: async (data) => {
      const allocations = Object.entries(data).filter(([key, value]) => key.startsWith("amount:") && value && Number(value) > 0)
        .map(([key, value]) => ({ invoice_id: key.slice("amount:".length), amount: String(value).trim() }));
      if (!allocations.length) throw new ApiError(422, { title: "Nothing to record", detail: "Give an amount for at least one invoice." });
      const matched = await api(`/api/erp/bank-lines/${line.id}/match`, { method: "POST", json: { allocations, ...(data.note ? { note: data.note } : {}) } });
      toast(`${lineName(line)} matched.`);
      return matched;
    },
  });
}

// Set aside: the line is booked against the account chosen (suspense unless someone knows better), so that the bank
// account's balance in the books stays the bank's.
function ignoreDialog(line) {
  const credit = line.direction === "credit";
  const usable = accounts.filter((a) => (!a.currency || a.currency === line.currency) && a.id !== bankLedger.get(line.account));
  const suspense = usable.find((a) => a.role === SUSPENSE_ROLE);
  return formDialog({
    title: credit ? `Not an invoice payment: ${lineName(line)}` : `Book money out: ${lineName(line)}`,
    submitLabel: credit ? "Set it aside" : "Book it",
    build: (body) => body.append(
      h("p", { class: "muted" }, credit
        ? "A refund, a grant, a transfer between own accounts, money to give back: it leaves the queue, and can be reopened."
        : "Rent, salaries, fees, a transfer between own accounts: money out that is no vendor bill's payment. It can be reopened."),
      field("Book against account", select({ name: "account_id", id: "set-aside-account" },
        usable.map((a) => [a.id, `${a.code} ${a.name}`]), suspense ? suspense.id : ""),
      "the bank account's other side in the books"),
      field(credit ? "What is it?" : "What was it for?", h("textarea", { name: "note", required: true, maxlength: 2000 }))),
    submit: async (data) => {
      const done = await api(`/api/erp/bank-lines/${line.id}/ignore`, { method: "POST", json: { note: data.note, ...(data.account_id ? { account_id: data.account_id } : {}) } });
      toast(`Booked to ${accountName(done.ledger_account_id)}.`);
      return done;
    },
  });
}

// A line that is a payment typed in by hand before the statement came (an invoice payment for a credit, a vendor
// bill's payment for a debit): linked to it, so that the payment is in the books once.
function linkDialog(line, { title, candidates, fieldLabel, key, option, none, linked }) {
  return formDialog({
    title,
    submitLabel: "Link the payment",
    build: async (body) => {
      const found = await api(`/api/erp/bank-lines/${line.id}/${candidates}`).catch(() => []);
      body.append(h("p", { class: "muted" }, `Booked ${date(line.booking_date)}. ${line.remittance || ""}`));
      if (!found.length) {
        body.append(h("p", { class: "notice" }, none));
        return;
      }
      body.append(field(fieldLabel, select({ name: key }, found.map((c) => [c[key], option(c)]), found[0][key])));
    },
    submit: async (data) => {
      if (!data[key]) throw new ApiError(422, { title: "Nothing to link", detail: none });
      const done = await api(`/api/erp/bank-lines/${line.id}/link`, { method: "POST", json: { [key]: data[key] } });
      toast(`${lineName(line)} linked to ${linked}.`);
      return done;
    },
  });
}

function paymentDialog(line) {
  return linkDialog(line, {
    title: `Typed payment: ${lineName(line)}`, candidates: "payment-candidates", fieldLabel: "Payment", key: "payment_id",
    option: (c) => `${c.invoice_number || "invoice"} (${c.client_name}), ${money(c.amount, c.currency)} paid ${date(c.paid_on)}`,
    none: "No payment typed in by hand fits this line: match it to invoices instead.", linked: "its payment",
  });
}

function billPaymentDialog(line) {
  return linkDialog(line, {
    title: `Bill payment: ${lineName(line)}`, candidates: "bill-payment-candidates", fieldLabel: "Bill payment", key: "bill_payment_id",
    option: (c) => `${c.vendor_name} ${c.vendor_reference}, ${money(c.amount, c.currency)} paid ${date(c.paid_on)}`,
    none: "No bill payment of this amount is recorded: pay the bill in Bills first, or book the line to an account.",
    linked: "its bill payment",
  });
}

function mappingDialog() {
  const column = (name, text, required = false) => field(text, { name, maxlength: 100, required }, "the column's header, as in the file");
  return formDialog({
    title: "New CSV column mapping",
    submitLabel: "Save mapping",
    build: (body) => body.append(
      h("div", { class: "row" }, field("Name", { name: "name", required: true, maxlength: 100 }), field("Account (IBAN)", { name: "account", required: true, maxlength: 50 })),
      h("div", { class: "row" },
        field("Separator", select({ name: "delimiter" }, [[";", "Semicolon ;"], [",", "Comma ,"], ["\t", "Tab"], ["|", "Bar |"]], ";")),
        field("Decimal mark", select({ name: "decimal_separator" }, [[",", "Comma (1.234,56)"], [".", "Point (1,234.56)"]], ",")),
        field("Dates", select({ name: "date_format" }, [["%d.%m.%Y", "31.12.2026"], ["%Y-%m-%d", "2026-12-31"], ["%d/%m/%Y", "31/12/2026"], ["%m/%d/%Y", "12/31/2026"], ["%d-%m-%Y", "31-12-2026"], ["%d.%m.%y", "31.12.26"], ["%Y%m%d", "20261231"]], "%d.%m.%Y")),
        field("Encoding", select({ name: "encoding" }, [["utf-8", "UTF-8"], ["cp1252", "Windows-1252"], ["latin-1", "Latin-1"]], "utf-8"))),
      h("div", { class: "row" }, column("booking_date", "Booking date", true), column("amount", "Amount (signed)", true), column("value_date", "Value date")),
      h("div", { class: "row" }, column("counterparty", "Payer or payee"), column("iban", "IBAN"), column("reference", "Text or reference")),
      h("div", { class: "row" }, column("currency_column", "Currency column"),
        field("Currency (without a column)", { name: "currency", maxlength: 3, pattern: "^[A-Z]{3}$", placeholder: "EUR" }),
        column("transaction_id", "Transaction id"))),
    submit: async (data) => {
      const columns = {};
      for (const key of ["booking_date", "amount", "value_date", "counterparty", "iban", "reference", "transaction_id"]) {
        if (data[key]) columns[key] = data[key];
      }
      if (data.currency_column) columns.currency = data.currency_column;
      const saved = await api("/api/erp/bank-csv-mappings", { method: "POST", json: {
        name: data.name, account: data.account, delimiter: data.delimiter, decimal_separator: data.decimal_separator,
        date_format: data.date_format, encoding: data.encoding, columns,
        ...(data.currency ? { currency: data.currency.toUpperCase() } : {}),
      } });
      toast(`Mapping “${saved.name}” saved.`);
      return saved;
    },
  });
}

export async function bankView(root, ctx) {
  const status = ctx.query.has("status") ? ctx.query.get("status") : "unmatched";
  const [mappings, lines, statements, chart, banks] = await Promise.all([
    optional(api("/api/erp/bank-csv-mappings")),
    optional(api("/api/erp/bank-lines", { query: { status, limit: 100 } })),
    optional(api("/api/erp/bank-statements", { query: { limit: 20 } })),
    ctx.can("erp.ledger.read") ? optional(api("/api/erp/accounts", { query: { active: true, limit: 200 } })) : null,
    optional(api("/api/erp/bank-accounts")),
  ]);
  accounts = chart ? itemsOf(chart) : [];
  bankLedger = new Map((banks || []).map((b) => [b.account, b.ledger_account_id]));
  root.append(pageHead("Bank reconciliation", ctx.can("erp.bank_csv_mappings.write") && mappings !== null ? [
    h("button", { type: "button", class: "secondary", onclick: async () => { if (await mappingDialog()) ctx.refresh(); } }, "New CSV mapping"),
  ] : null));
  if (lines === null) {
    root.append(h("p", { class: "notice" }, "Bank reconciliation is not available on this server yet."));
    return { events: [] };
  }
  if (ctx.can("erp.bank_statements.import")) root.append(importPanel(ctx, mappings || []));
  lists = { status, lines: h("div", {}), statements: h("div", {}) };
  const filter = select({ id: "bank-line-status", onchange: (e) => ctx.navigate(`/bank?status=${e.target.value}`) }, LINE_STATUSES, status);
  lists.lines.append(linesTable(ctx, itemsOf(lines), status));
  lists.statements.append(statementsTable(itemsOf(statements)));
  root.append(...[
    h("section", { class: "panel", "aria-labelledby": "bank-lines" },
      h("div", { class: "page-head" }, h("h2", { id: "bank-lines" }, "Bank lines"), h("div", { class: "filters" }, field("Show", filter))),
      lists.lines),
    h("section", { class: "panel", "aria-labelledby": "bank-statements" }, h("h2", { id: "bank-statements" }, "Statements"), lists.statements),
    mappings && mappings.length ? h("section", { class: "panel", "aria-labelledby": "bank-mappings" }, h("h2", { id: "bank-mappings" }, "CSV column mappings"),
      table([
        { label: "Name", value: (m) => m.name },
        { label: "Account", value: (m) => m.account },
        { label: "Columns", value: (m) => Object.entries(m.columns).filter(([, v]) => v).map(([k, v]) => `${label(k)}: ${v}`).join(" · ") },
        { label: "Numbers and dates", value: (m) => `${m.decimal_separator === "," ? "1.234,56" : "1,234.56"}; ${m.date_format}` },
      ], mappings)) : null].filter(Boolean));
  return { events: ["payment.", "invoice.paid"] };
}
