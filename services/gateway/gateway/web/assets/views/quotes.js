// Quotes on the deal page: revisions with their status, a dialog that builds one from the catalogue of services and
// rate cards (with a discount, one of the ERP's tax rates, a validity date and billing terms), a preview of what the
// client's page shows, the PDF, and sending it (a mail with a signed link; the client answers on that page).

import { api, all, optional } from "../api.js";
import { h, field, select, money, date, dateTime, badge, formDialog, toast, act, table, isoDate, addDays, errorBox } from "../ui.js";
import { billingFields, billingFromForm, describeBilling, DATE_BOUNDS } from "./common.js";

const DECIMAL = "^\\d+(\\.\\d{1,4})?$";

// One editable line: a service from the catalogue (its name, kind and price fill in) or typed.
function lineRow(catalogue, currency, line = {}) {
  const offered = catalogue.filter((c) => c.active && c.currency === currency);
  const service = select({ name: "line_service", "aria-label": "Service" },
    [["", "Typed line"], ...offered.map((c) => [c.id, `${c.name} (${c.kind === "hourly" ? `${c.unit_price}/h` : c.unit_price})`])],
    line.catalogue_item_id || "");
  const description = h("input", { name: "line_description", "aria-label": "Description", maxlength: 500, value: line.description || "" });
  const kind = select({ name: "line_kind", "aria-label": "Kind" }, [["fixed", "Fixed fee"], ["hourly", "Hours × rate"]], line.kind || "fixed");
  const quantity = h("input", { name: "line_quantity", "aria-label": "Quantity or hours", inputmode: "decimal", required: true,
    pattern: "^\\d+(\\.\\d{1,2})?$", value: line.quantity ? String(Number(line.quantity)) : "1" });
  const price = h("input", { name: "line_price", "aria-label": "Unit price or rate", inputmode: "decimal", pattern: DECIMAL,
    value: line.unit_price || "" });
  service.addEventListener("change", () => {
    const chosen = offered.find((c) => c.id === service.value);
    if (!chosen) return;
    description.value = chosen.name;
    kind.value = chosen.kind;
    price.value = chosen.unit_price;
  });
  const row = h("div", { class: "row quote-line" }, service, description, kind, quantity, price);
  row.append(h("button", { type: "button", class: "secondary", "aria-label": "Remove this line", onclick: () => row.remove() }, "Remove"));
  return row;
}

function linesFrom(form) {
  return [...form.querySelectorAll(".quote-line")].map((row) => {
    const value = (name) => row.querySelector(`[name=${name}]`).value.trim();
    const line = { quantity: value("line_quantity") || "1" };
    if (value("line_service")) line.catalogue_item_id = value("line_service");
    if (value("line_description")) line.description = value("line_description");
    line.kind = value("line_kind");
    if (value("line_price")) line.unit_price = value("line_price");
    return line;
  });
}

// A new revision (from `base`, the latest one, if any) or a draft's edit (`editing`).
async function quoteDialog(deal, { base = null, editing = null } = {}) {
  const [catalogue, rates] = await Promise.all([
    api("/api/crm/quote-catalogue", { query: { active: true } }),
    optional(all("/api/erp/tax-rates", { active: true }, 200)).then((r) => r || []),
  ]);
  const from = editing || base;
  return formDialog({
    title: editing ? `Edit quote revision ${editing.revision}` : (base ? `New revision of the quote for “${deal.title}”` : `New quote for “${deal.title}”`),
    submitLabel: editing ? "Save draft" : "Create draft",
    build: (body) => {
      const lines = h("div", { id: "quote-lines" });
      for (const line of from?.lines || [{}]) lines.append(lineRow(catalogue, deal.currency, line));
      const tax = select({ name: "tax_rate" }, [["", "No tax"], ...rates.map((r) => [r.id, `${r.name} (${Number(r.percent)} %)`])],
        from?.tax_rate_id || (from ? "" : rates.find((r) => r.is_default)?.id || ""));
      body.append(
        field("Title", { name: "title", maxlength: 200, value: from?.title || deal.title }),
        h("fieldset", {}, h("legend", {}, `Lines (${deal.currency}): service, description, kind, quantity or hours, unit price or rate`),
          lines, h("button", { type: "button", class: "secondary", onclick: () => lines.append(lineRow(catalogue, deal.currency)) }, "Add a line")),
        h("div", { class: "row" },
          field("Discount %", { name: "discount_percent", inputmode: "decimal", pattern: DECIMAL, value: from ? String(Number(from.discount_percent)) : "0" }),
          field("Tax (the ERP's rates)", tax),
          field("Valid until", { name: "valid_until", type: "date", required: true, ...DATE_BOUNDS,
            value: from?.valid_until && !base ? from.valid_until : isoDate(addDays(new Date(), 30)) })),
        field("Notes for the client", h("textarea", { name: "notes", rows: 2, maxlength: 5000 }, from?.notes || "")));
      billingFields(body, { ...deal, billing: from?.billing || deal.billing }, { keep: Boolean(from?.billing || deal.billing) });
    },
    submit: async (data, form) => {
      const rate = rates.find((r) => r.id === data.tax_rate);
      const body = {
        title: data.title || deal.title, lines: linesFrom(form), discount_percent: data.discount_percent || "0",
        tax: rate ? { rate_id: rate.id, name: rate.name, percent: String(rate.percent) } : null,
        valid_until: data.valid_until, notes: data.notes || null,
      };
      const billing = billingFromForm(data);
      if (billing) body.billing = billing;
      const saved = editing
        ? await api(`/api/crm/quotes/${editing.id}`, { method: "PATCH", json: body })
        : await api(`/api/crm/deals/${deal.id}/quotes`, { method: "POST", json: body });
      toast(`Quote revision ${saved.revision} saved as a draft.`);
      return saved;
    },
  });
}

function catalogueDialog() {
  return formDialog({
    title: "Add a service to the catalogue",
    submitLabel: "Add service",
    build: (body) => body.append(
      field("Name", { name: "name", required: true, maxlength: 200 }),
      h("div", { class: "row" },
        field("Priced as", select({ name: "kind" }, [["fixed", "Fixed fee"], ["hourly", "Hourly rate card"]], "fixed")),
        field("Fee or rate", { name: "unit_price", required: true, inputmode: "decimal", pattern: DECIMAL }),
        field("Currency", { name: "currency", required: true, maxlength: 3, pattern: "^[A-Z]{3}$", value: "EUR" })),
      field("Description", h("textarea", { name: "description", rows: 2, maxlength: 2000 }))),
    submit: async (data) => {
      const item = await api("/api/crm/quote-catalogue", { method: "POST", json: {
        name: data.name, kind: data.kind, unit_price: data.unit_price, currency: data.currency.toUpperCase(),
        ...(data.description ? { description: data.description } : {}) } });
      toast(`“${item.name}” is in the catalogue.`);
      return item;
    },
  });
}

function sendDialog(deal, quote) {
  return formDialog({
    title: `Send revision ${quote.revision} to the client`,
    submitLabel: "Send quote",
    build: (body) => body.append(
      h("p", { class: "muted" }, `A mail with a signed link to the quote's page, valid until ${date(quote.valid_until)}. The client reads it, downloads the PDF, and accepts (which wins the deal) or declines there.`),
      field("To", { name: "to", type: "email", maxlength: 320, placeholder: "the deal's contact" }),
      field("Message", h("textarea", { name: "message", rows: 3, maxlength: 5000 }))),
    submit: async (data) => {
      const sent = await api(`/api/crm/quotes/${quote.id}/send`, { method: "POST", json: {
        ...(data.to ? { to: data.to } : {}), ...(data.message ? { message: data.message } : {}) } });
      toast(`Quote sent to ${sent.quote.sent_to}.`);
      return sent;
    },
  });
}

// What the client's page shows (the same lines, totals and terms), for staff, without the accept and decline forms.
export function quotePreview(quote, companyName) {
  const rows = quote.lines.map((l) => ({ ...l }));
  return h("article", { class: "quote-preview", "aria-label": `Preview of quote revision ${quote.revision}` },
    h("h3", {}, quote.title),
    h("p", { class: "muted" }, `For ${companyName || "the client"} · revision ${quote.revision} · valid until ${date(quote.valid_until)}`),
    table([
      { label: "Description", value: (l) => l.description },
      { label: "Quantity", value: (l) => `${Number(l.quantity)} ${l.unit}`, num: true },
      { label: "Unit price", value: (l) => money(l.unit_price, quote.currency), num: true },
      { label: "Amount", value: (l) => money(l.amount, quote.currency), num: true },
    ], rows, { caption: "Quote lines" }),
    h("dl", { class: "facts" },
      h("dt", {}, "Subtotal"), h("dd", {}, money(quote.subtotal, quote.currency)),
      Number(quote.discount_total) ? [h("dt", {}, `Discount ${Number(quote.discount_percent)} %`), h("dd", {}, `−${money(quote.discount_total, quote.currency)}`)] : null,
      quote.tax_name ? [h("dt", {}, `${quote.tax_name} (${Number(quote.tax_percent)} %)`), h("dd", {}, money(quote.tax_total, quote.currency))] : null,
      h("dt", {}, "Total"), h("dd", { class: "quote-total" }, h("strong", {}, money(quote.total, quote.currency))),
      h("dt", {}, "Billing"), h("dd", {}, describeBilling(quote.billing))),
    quote.notes ? h("p", {}, quote.notes) : null);
}

function previewDialog(quote, companyName) {
  return formDialog({
    title: "The client's page",
    submitLabel: "Close",
    build: (body) => body.append(quotePreview(quote, companyName),
      h("p", { class: "notice" }, quote.status === "accepted" ? `Accepted by ${quote.accepted_name} on ${dateTime(quote.accepted_at)}.`
        : quote.status === "declined" ? `Declined on ${dateTime(quote.declined_at)}: ${quote.decline_reason}`
          : "Below this, the client types their name to accept, or gives a reason to decline.")),
    submit: async () => true,
  });
}

// The PDF needs the bearer token, which a plain link cannot send: fetch it, then download the bytes.
async function downloadPdf(quote) {
  const response = await api(`/api/crm/quotes/${quote.id}/pdf`, { raw: true, accept: "application/pdf" });
  const url = URL.createObjectURL(await response.blob());
  const link = h("a", { href: url, download: `quote-${quote.revision}.pdf` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export async function quotesPanel(ctx, deal, companyName) {
  const errors = h("div", { "aria-live": "assertive" });
  const quotes = await optional(api(`/api/crm/deals/${deal.id}/quotes`));
  const section = h("section", { class: "panel", id: "deal-quotes", "aria-labelledby": "deal-quotes-title" });
  if (quotes === null) {
    section.append(h("h2", { id: "deal-quotes-title" }, "Quotes"), errorBox(new Error("Quotes are not available.")));
    return section;
  }
  const writer = ctx.can("crm.quotes.write") && deal.status === "open";
  const latest = quotes[0];
  const headActions = writer ? h("div", { class: "actions" },
    h("button", { type: "button", id: "new-quote", onclick: async () => { if (await quoteDialog(deal, { base: latest })) ctx.refresh(); } },
      latest ? "New revision" : "New quote"),
    h("button", { type: "button", class: "secondary", onclick: async () => { if (await catalogueDialog()) ctx.refresh(); } }, "Add a service")) : null;
  const actionsOf = (q) => {
    const buttons = [h("button", { type: "button", class: "secondary", onclick: () => previewDialog(q, companyName) }, "Preview"),
      h("button", { type: "button", class: "secondary", onclick: (e) => act(e.currentTarget, () => downloadPdf(q), errors) }, "PDF")];
    if (writer && q.status === "draft") {
      buttons.push(h("button", { type: "button", class: "secondary", onclick: async () => { if (await quoteDialog(deal, { editing: q })) ctx.refresh(); } }, "Edit"));
    }
    if (writer && q.latest && (q.status === "draft" || q.status === "sent")) {
      buttons.push(h("button", { type: "button", onclick: async () => { if (await sendDialog(deal, q)) ctx.refresh(); } }, q.status === "sent" ? "Send again" : "Send"));
    }
    return h("div", { class: "actions" }, buttons);
  };
  section.append(
    h("div", { class: "page-head" }, h("h2", { id: "deal-quotes-title" }, "Quotes"), headActions),
    errors,
    table([
      { label: "Revision", value: (q) => String(q.revision) },
      { label: "Status", value: (q) => badge(q.status) },
      { label: "Net", value: (q) => money(q.net_total, q.currency), num: true },
      { label: "Total", value: (q) => money(q.total, q.currency), num: true },
      { label: "Valid until", value: (q) => date(q.valid_until) },
      { label: "Sent", value: (q) => (q.sent_at ? `${dateTime(q.sent_at)} to ${q.sent_to}` : "—") },
      { label: "Actions", value: actionsOf },
    ], quotes, { caption: "Quote revisions, newest first (only the latest can be accepted)", empty: "No quote yet." }));
  return section;
}
