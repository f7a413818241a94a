// Finance: invoices (list, draft, issue, record payment, void, credit note, the rendered invoice).

import { api, all, optional, itemsOf, ApiError } from "../api.js";
import { filterBar, apiQuery } from "./filters.js";
import { h, field, select, money, date, dateTime, badge, formDialog, toast, table, act, isoDate, label, unavailable } from "../ui.js";
import { pageHead, clientNames } from "./common.js";
import { exportPanel } from "./csv.js";
import { sendDialog, mailPanel } from "./invoice_mail.js";

// Invoices whose rendered view the user opened: a live re-render of the page shows it again.
const RENDERED_OPEN = new Set();

function statusOf(invoice) { return invoice.overdue ? "overdue" : invoice.status; }

// The active tax rates, for a line's "Tax rate" select (empty: the server gives the client's default).
async function activeRates() {
  return itemsOf(await optional(api("/api/erp/tax-rates", { query: { active: "true", limit: 200 } })));
}

function rateOptions(rates, first) {
  return [["", first], ...rates.map((r) => [r.id, `${r.name} (${r.percent} %)`])];
}

async function newInvoiceDialog(ctx) {
  const [clients, projects, rates] = await Promise.all([all("/api/erp/clients", {}, 2000), all("/api/erp/projects", { status: "active" }, 1000), activeRates()]);
  return formDialog({
    title: "New draft invoice",
    submitLabel: "Create draft",
    build: (body) => body.append(
      field("Client", select({ name: "client_id", required: true }, [["", "Choose a client"], ...clients.map((c) => [c.id, c.name])], "")),
      field("Project (optional)", select({ name: "project_id" }, [["", "None"], ...projects.map((p) => [p.id, p.name])], "")),
      field("Description", { name: "description", required: true, maxlength: 500 }),
      h("div", { class: "row" },
        field("Quantity", { name: "quantity", required: true, inputmode: "decimal", value: "1" }),
        field("Unit price", { name: "unit_price", required: true, inputmode: "decimal" })),
      field("Tax rate", select({ name: "tax_rate_id" }, rateOptions(rates, "The client's default"), "")),
      field("Currency", { name: "currency", maxlength: 3, pattern: "^[A-Z]{3}$", placeholder: "the client's or project's" })),
    submit: async (data) => {
      const invoice = await api("/api/erp/invoices", { method: "POST", json: {
        client_id: data.client_id || null, ...(data.project_id ? { project_id: data.project_id } : {}),
        ...(data.currency ? { currency: data.currency.toUpperCase() } : {}),
        lines: [{ description: data.description, quantity: data.quantity, unit_price: data.unit_price, ...(data.tax_rate_id ? { tax_rate_id: data.tax_rate_id } : {}) }],
      } });
      toast("Draft invoice created.");
      ctx.navigate(`/invoices/${invoice.id}`);
      return invoice;
    },
  });
}

function invoiceFilters(clients) {
  return [
    { key: "client_id", label: "Client", kind: "select", options: [["", "Any client"], ...Object.entries(clients).sort((a, b) => a[1].localeCompare(b[1]))] },
    { key: "status", label: "Status", kind: "select", options: [["", "All"], ["draft", "Draft"], ["issued", "Issued"], ["partially_paid", "Partially paid"], ["overdue", "Overdue"], ["paid", "Paid"], ["credited", "Credited"], ["void", "Void"]] },
    { key: "issued_from", label: "Issued from", kind: "date" },
    { key: "issued_to", label: "Issued to", kind: "date" },
    { key: "total_min", label: "Total from", kind: "amount" },
    { key: "total_max", label: "Total to", kind: "amount" },
  ];
}

export async function invoicesView(root, ctx) {
  const status = ctx.query.get("status") || "";
  const overdue = status === "overdue";
  const offset = Number(ctx.query.get("offset") || 0);
  const clients = await clientNames();
  const filters = await filterBar(ctx, { list: "invoices", path: "/invoices", fields: invoiceFilters(clients) });
  const query = { ...apiQuery(ctx, filters.values), status: overdue ? "" : status, overdue: overdue ? "true" : "" };
  const page = await optional(api("/api/erp/invoices", { query: { ...query, limit: 50, offset } }));
  const here = new URLSearchParams(Object.entries(filters.values));
  root.append(pageHead("Invoices", ctx.can("erp.invoices.write") && page !== null ? [
    h("button", { type: "button", class: "secondary", onclick: () => newInvoiceDialog(ctx) }, "New draft invoice"),
  ] : null));
  if (page === null) { root.append(unavailable("Invoicing")); return { events: ["invoice.", "payment."] }; }
  const rows = itemsOf(page);
  const total = page.total ?? rows.length;
  root.append(filters.element,
    table([
      { label: "Number", value: (i) => h("a", { href: `#/invoices/${i.id}` }, i.number || "Draft", i.kind === "credit_note" ? " (credit note)" : "") },
      { label: "Client", value: (i) => clients[i.client_id] || "—" },
      { label: "Status", value: (i) => badge(statusOf(i)) },
      { label: "Issued", value: (i) => date(i.issue_date) },
      { label: "Due", value: (i) => date(i.due_date) },
      { label: "Total", value: (i) => money(i.total, i.currency), num: true },
      { label: "Balance due", value: (i) => money(i.balance_due, i.currency), num: true },
    ], rows, { empty: "No invoices match." }),
    h("p", { class: "muted small" }, `${rows.length ? offset + 1 : 0}–${offset + rows.length} of ${total}`,
      offset > 0 ? [" ", h("a", { href: `#/invoices?${here}&offset=${Math.max(0, offset - 50)}` }, "Previous")] : null,
      offset + rows.length < total ? [" ", h("a", { href: `#/invoices?${here}&offset=${offset + 50}` }, "Next")] : null));
  root.append(exportPanel([["invoices", "invoices"], ["payments", "payments"]]));
  return { events: ["invoice.", "payment."] };
}

function paymentDialog(invoice) {
  return formDialog({
    title: `Record a payment on ${invoice.number}`,
    submitLabel: "Record payment",
    build: (body) => body.append(
      h("div", { class: "row" },
        field("Amount", { name: "amount", required: true, inputmode: "decimal", value: invoice.balance_due }, invoice.currency),
        field("Paid on", { name: "paid_on", type: "date", required: true, value: isoDate() })),
      h("div", { class: "row" },
        field("Method", select({ name: "method" }, ["bank_transfer", "card", "cash", "check", "direct_debit", "other"].map((m) => [m, label(m)]), "bank_transfer")),
        field("Reference", { name: "reference", maxlength: 200 }))),
    submit: async (data) => {
      const result = await api(`/api/erp/invoices/${invoice.id}/payments`, { method: "POST", json: {
        amount: data.amount, paid_on: data.paid_on, method: data.method, currency: invoice.currency, ...(data.reference ? { reference: data.reference } : {}),
      } });
      toast(`Payment of ${money(data.amount, invoice.currency)} recorded.`);
      return result;
    },
  });
}

function voidDialog(invoice) {
  return formDialog({
    title: `Void ${invoice.number}`,
    submitLabel: "Void invoice",
    danger: true,
    build: (body) => body.append(h("p", {}, "A void invoice keeps its number but is no longer owed. Invoices with payments need a credit note instead."),
      field("Reason", h("textarea", { name: "reason", maxlength: 2000 }))),
    submit: async (data) => {
      const result = await api(`/api/erp/invoices/${invoice.id}/void`, { method: "POST", json: data.reason ? { reason: data.reason } : {} });
      toast(`${invoice.number} is void.`);
      return result;
    },
  });
}

function creditNoteDialog(invoice) {
  return formDialog({
    title: `Credit note against ${invoice.number}`,
    submitLabel: "Create credit note",
    build: (body) => body.append(
      field("Amount to credit", { name: "amount", required: true, inputmode: "decimal", value: invoice.balance_due }, `${invoice.currency}, gross, at most the balance due`),
      field("Reason", h("textarea", { name: "reason", required: true, maxlength: 2000 }))),
    submit: async (data) => {
      const note = await api(`/api/erp/invoices/${invoice.id}/credit-note`, { method: "POST", json: { amount: data.amount, reason: data.reason } });
      toast(`Credit note ${note.number || ""} created.`);
      return note;
    },
  });
}

// A draft's lines, editable in place: each row keeps its line's id (a billed line keeps what it bills), a new row
// is a new line; saved with one PATCH (lines replace the draft's lines).
function lineEditor(invoice, rates, ctx) {
  const errors = h("div", { "aria-live": "assertive" });
  const body = h("tbody");
  let counter = 0;
  const row = (line = {}) => {
    counter += 1;
    const n = counter;
    const billed = ["schedule", "time", "expense"].includes(line.kind);
    const known = rates.some((r) => r.id === line.tax_rate_id);
    const tax = select({ name: "tax_rate_id", "aria-label": `Tax rate of line ${n}` },
      rateOptions(rates, line.id ? `As written (${line.tax_rate} %)` : "The client's default"), known ? line.tax_rate_id : "");
    const tr = h("tr", { dataset: { lineId: line.id || "", taxWas: known ? line.tax_rate_id : "" } },
      h("td", { "data-label": "Description" }, h("input", { name: "description", required: true, maxlength: 500, value: line.description || "", "aria-label": `Description of line ${n}` })),
      h("td", { "data-label": "Qty", class: "num" }, h("input", { name: "quantity", required: true, inputmode: "decimal", size: 6, value: line.quantity ?? "1", "aria-label": `Quantity of line ${n}` })),
      h("td", { "data-label": "Unit price", class: "num" }, h("input", { name: "unit_price", required: true, inputmode: "decimal", size: 10, value: line.unit_price ?? "", "aria-label": `Unit price of line ${n}` })),
      h("td", { "data-label": "Tax rate" }, tax),
      h("td", {}, billed ? h("span", { class: "muted small" }, `${label(line.kind)} (kept)`)
        : h("button", { type: "button", class: "secondary small", "aria-label": `Remove line ${n}`, onclick: () => tr.remove() }, "Remove")));
    return tr;
  };
  body.append(...itemsOf(invoice.lines).map(row));
  const form = h("form", { class: "line-editor", novalidate: true, "aria-label": "Edit the draft's lines" },
    h("div", { class: "table-wrap" }, h("table", { class: "responsive" },
      h("thead", {}, h("tr", {}, ["Description", "Qty", "Unit price", "Tax rate", ""].map((t) => h("th", { scope: "col" }, t)))), body)),
    errors,
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", id: "add-line", onclick: () => { body.append(row()); body.lastElementChild.querySelector("input").focus(); } }, "Add line"),
      h("button", { type: "submit", id: "save-lines" }, "Save lines")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    act(form.querySelector("#save-lines"), async () => {
      const lines = [...body.querySelectorAll("tr")].map((tr) => {
        const value = (name) => tr.querySelector(`[name=${name}]`).value.trim();
        const rate = value("tax_rate_id");
        const line = { description: value("description"), quantity: value("quantity"), unit_price: value("unit_price") };
        if (tr.dataset.lineId) line.id = tr.dataset.lineId;
        // An existing line keeps the tax it was written with unless another rate is chosen.
        if (rate && (!tr.dataset.lineId || rate !== tr.dataset.taxWas)) line.tax_rate_id = rate;
        return line;
      });
      await api(`/api/erp/invoices/${invoice.id}`, { method: "PATCH", json: { lines } });
      toast("Lines saved.");
      ctx.refresh();
    }, errors);
  });
  return form;
}

// The PDF needs the bearer token, which a plain link cannot send: fetch it, then open the bytes as a blob URL.
async function openPdf(invoice) {
  const response = await api(`/api/erp/invoices/${invoice.id}/pdf`, { raw: true, accept: "application/pdf" });
  const url = URL.createObjectURL(await response.blob());
  const opened = window.open(url, "_blank");
  if (!opened) { // a blocked pop-up: download it instead
    const link = h("a", { href: url, download: `${invoice.number || "draft"}.pdf` });
    document.body.append(link);
    link.click();
    link.remove();
  }
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function party(snapshot, missing) {
  if (!snapshot) return h("p", { class: "muted" }, missing);
  const place = [snapshot.postal_code, snapshot.city].filter(Boolean).join(" ");
  return h("address", {}, h("strong", {}, snapshot.legal_name || snapshot.name),
    (snapshot.address_lines || []).map((l) => [h("br"), l]), place ? [h("br"), place] : null,
    snapshot.country ? [h("br"), snapshot.country] : null, snapshot.vat_id ? [h("br"), `VAT ID ${snapshot.vat_id}`] : null,
    (snapshot.bank_accounts || []).slice(0, 1).map((a) => [h("br"), `IBAN ${a.iban}`]));
}

const CATEGORY_NAMES = { S: "VAT", Z: "Zero rate", E: "Exempt", AE: "Reverse charge" };

// The invoice page is laid out for a sheet of paper: in a narrower slot (a phone) it is laid out at that width and
// scaled down, rather than squeezed until its totals fall off the right edge.
const PAGE_WIDTH = 800;
function fitToWidth(frame) {
  const wrap = h("div", { class: "invoice-fit" }, frame);
  const fit = () => {
    const scale = wrap.clientWidth ? Math.min(1, wrap.clientWidth / PAGE_WIDTH) : 1;
    frame.style.width = scale < 1 ? `${PAGE_WIDTH}px` : "";
    frame.style.transform = scale < 1 ? `scale(${scale})` : "";
    wrap.style.height = scale < 1 ? `${Math.ceil(frame.offsetHeight * scale)}px` : "";
    wrap.dataset.scale = String(scale);
  };
  new ResizeObserver(fit).observe(wrap);
  return wrap;
}

export async function invoiceView(root, ctx) {
  const [id] = ctx.params;
  let invoice;
  try {
    invoice = await api(`/api/erp/invoices/${id}`);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 422)) {
      root.append(pageHead("Invoice not found"), h("p", {}, "This invoice does not exist, or invoicing is not available on this server. ", h("a", { href: "#/invoices" }, "Back to invoices.")));
      return { events: [] };
    }
    throw error;
  }
  const editable = invoice.status === "draft" && ctx.can("erp.invoices.write");
  const [client, payments, credits, rates] = await Promise.all([
    optional(api(`/api/erp/clients/${invoice.client_id}`)),
    optional(api(`/api/erp/invoices/${id}/payments`, { query: { limit: 200 } })),
    optional(api("/api/erp/invoices", { query: { credit_of_id: id, limit: 50 } })),
    editable ? activeRates() : [],
  ]);
  const mail = invoice.status === "draft" ? null : await mailPanel(invoice);
  const errors = h("div", { "aria-live": "assertive" });
  const may = (action) => ctx.can(action);
  const isCredit = invoice.kind === "credit_note";
  const actions = [];
  const refreshAfter = (p) => async () => { if (await p()) ctx.refresh(); };
  if (may("erp.invoices.write") && invoice.status === "draft") {
    actions.push(h("button", { type: "button", id: "issue-invoice", onclick: (e) => act(e.currentTarget, async () => {
      const issued = await api(`/api/erp/invoices/${id}/issue`, { method: "POST" });
      toast(`Issued as ${issued.number}.`);
      ctx.refresh();
    }, errors) }, "Issue"));
  }
  if (may("erp.invoices.send") && !["draft", "void"].includes(invoice.status)) {
    actions.push(h("button", { type: "button", id: "send-invoice", class: invoice.sent_at ? "secondary" : "",
      onclick: refreshAfter(() => sendDialog(invoice)) }, invoice.sent_at ? "Send again" : "Send"));
  }
  if (may("erp.payments.write") && !isCredit && ["issued", "partially_paid"].includes(invoice.status)) {
    actions.push(h("button", { type: "button", onclick: refreshAfter(() => paymentDialog(invoice)) }, "Record payment"));
  }
  if (may("erp.invoices.write") && !isCredit && invoice.status === "issued" && Number(invoice.amount_paid) === 0) {
    actions.push(h("button", { type: "button", class: "secondary", onclick: refreshAfter(() => voidDialog(invoice)) }, "Void"));
  }
  if (may("erp.credit_notes.write") && !isCredit && ["issued", "partially_paid"].includes(invoice.status)) {
    actions.push(h("button", { type: "button", class: "secondary", onclick: async () => {
      const note = await creditNoteDialog(invoice);
      if (note) ctx.navigate(`/invoices/${note.id}`);
    } }, "Credit note"));
  }
  const frame = h("iframe", { class: "invoice-frame", title: `Rendered ${isCredit ? "credit note" : "invoice"} ${invoice.number || "draft"}`, sandbox: "allow-modals" });
  const renderSlot = h("div", {});
  const loadRendered = async () => {
    const html = await api(`/api/erp/invoices/${id}/html`, { accept: "text/html" });
    frame.srcdoc = html;
    renderSlot.replaceChildren(fitToWidth(frame));
  };
  const showRendered = h("button", { type: "button", class: "secondary", onclick: (e) => act(e.currentTarget, async () => {
    await loadRendered();
    RENDERED_OPEN.add(id); // a live refresh of this page keeps it open
    frame.focus();
  }, renderSlot) }, "View rendered invoice");
  if (RENDERED_OPEN.has(id)) await loadRendered().catch(() => RENDERED_OPEN.delete(id));
  const pdfButton = h("button", { type: "button", class: "secondary", id: "open-pdf", onclick: (e) => act(e.currentTarget, () => openPdf(invoice), renderSlot) },
    invoice.status === "draft" ? "Open draft PDF" : "Open PDF");
  const breakdown = itemsOf(invoice.tax_breakdown);
  root.append(
    pageHead(`${isCredit ? "Credit note" : "Invoice"} ${invoice.number || "(draft)"}`, ...actions),
    errors,
    h("div", { class: "grid-2" },
      h("section", { class: "panel", "aria-labelledby": "inv-facts" }, h("h2", { id: "inv-facts" }, "Summary"),
        h("dl", { class: "facts" },
          h("dt", {}, "Status"), h("dd", { id: "invoice-status" }, badge(statusOf(invoice))),
          h("dt", {}, "Client"), h("dd", {}, client ? (client.crm_company_id ? h("a", { href: `#/companies/${client.crm_company_id}` }, client.name) : client.name) : "—"),
          invoice.project_id ? [h("dt", {}, "Project"), h("dd", {}, h("a", { href: `#/projects/${invoice.project_id}` }, "Open the project"))] : null,
          invoice.credit_of_id ? [h("dt", {}, "Credits"), h("dd", {}, h("a", { href: `#/invoices/${invoice.credit_of_id}` }, "The original invoice"))] : null,
          h("dt", {}, "Issued"), h("dd", {}, date(invoice.issue_date)),
          invoice.payment_reference ? [h("dt", {}, "Payment reference"), h("dd", { id: "invoice-reference" }, h("code", {}, invoice.payment_reference))] : null,
          h("dt", {}, "Due"), h("dd", {}, date(invoice.due_date), invoice.payment_terms_days !== undefined ? ` (${invoice.payment_terms_days} days)` : ""),
          h("dt", {}, "Total"), h("dd", {}, money(invoice.total, invoice.currency)),
          h("dt", {}, "Paid"), h("dd", {}, money(invoice.amount_paid, invoice.currency)),
          Number(invoice.amount_credited) ? [h("dt", {}, "Credited"), h("dd", {}, money(invoice.amount_credited, invoice.currency))] : null,
          h("dt", {}, "Balance due"), h("dd", { id: "invoice-balance" }, h("strong", {}, money(invoice.balance_due, invoice.currency))),
          invoice.void_reason ? [h("dt", {}, "Void because"), h("dd", {}, invoice.void_reason)] : null)),
      h("section", { class: "panel", "aria-labelledby": "inv-pay" }, h("h2", { id: "inv-pay" }, "Payments"),
        payments === null ? unavailable("Payments") : table([
          { label: "Paid on", value: (p) => date(p.paid_on) },
          { label: "Method", value: (p) => label(p.method) },
          { label: "Reference", value: (p) => p.reference || "—" },
          { label: "Amount", value: (p) => money(p.amount, p.currency), num: true },
        ], itemsOf(payments), { empty: "No payments yet." }),
        credits && itemsOf(credits).length ? [h("h3", {}, "Credit notes"), table([
          { label: "Number", value: (c) => h("a", { href: `#/invoices/${c.id}` }, c.number || "Draft") },
          { label: "Issued", value: (c) => date(c.issue_date) },
          { label: "Amount", value: (c) => money(c.total, c.currency), num: true },
        ], itemsOf(credits))] : null)),
    h("section", { class: "panel", "aria-labelledby": "inv-parties" }, h("h2", { id: "inv-parties" }, "Seller and bill-to"),
      h("div", { class: "grid-2 parties" },
        h("div", { id: "invoice-seller" }, h("h3", {}, "Seller"), party(invoice.seller,
          invoice.status === "draft" ? "Taken from Settings when the invoice is issued." : "The company was not set up when this was issued.")),
        h("div", { id: "invoice-bill-to" }, h("h3", {}, "Bill to"), party(invoice.bill_to,
          invoice.status === "draft" ? "Taken from the client when the invoice is issued." : "—")))),
    h("section", { class: "panel", "aria-labelledby": "inv-lines" }, h("h2", { id: "inv-lines" }, editable ? "Lines (draft: editable)" : "Lines"),
      editable ? lineEditor(invoice, rates, ctx) : table([
        { label: "Description", value: (l) => l.description },
        { label: "Qty", value: (l) => String(l.quantity), num: true },
        { label: "Unit price", value: (l) => money(l.unit_price, invoice.currency), num: true },
        { label: "Tax", value: (l) => `${Number(l.tax_rate)} % ${label(l.tax_category)}`, num: true },
        { label: "Net", value: (l) => money(l.net_amount, invoice.currency), num: true },
      ], itemsOf(invoice.lines), { empty: "No lines." }),
      breakdown.length ? h("div", { id: "tax-breakdown" }, h("h3", {}, "Tax per rate"), table([
        { label: "Tax", value: (g) => `${CATEGORY_NAMES[g.category_code] || g.category_code} ${g.percent} %` },
        { label: "On", value: (g) => money(g.basis, invoice.currency), num: true },
        { label: "Tax amount", value: (g) => money(g.tax, invoice.currency), num: true },
        { label: "Note", value: (g) => g.note || "" },
      ], breakdown)) : null,
      h("p", { class: "totals-line" }, `Net ${money(invoice.subtotal, invoice.currency)} · tax ${money(invoice.tax_total, invoice.currency)} · `,
        h("strong", { id: "invoice-total" }, `total ${money(invoice.total, invoice.currency)}`)),
      h("p", { class: "muted small" }, `Created ${dateTime(invoice.created_at)}${invoice.issued_at ? ` · issued ${dateTime(invoice.issued_at)}` : ""}${invoice.paid_at ? ` · paid ${dateTime(invoice.paid_at)}` : ""}`)),
    mail,
    h("section", { class: "panel", "aria-labelledby": "inv-render" }, h("div", { class: "page-head" }, h("h2", { id: "inv-render" }, "Rendered invoice"),
      h("div", { class: "actions" }, showRendered, pdfButton)), renderSlot));
  return { events: ["invoice.", "payment."] };
}
