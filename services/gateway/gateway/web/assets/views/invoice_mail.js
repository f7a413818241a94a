// Invoices by mail: the Send dialog and the mail history of an invoice, the invoice and reminder mail templates
// (Settings), a client's reminder pause (the company page), and the admin's "Sent mail" page over what the
// development SMTP server kept.

import { api, itemsOf, ApiError } from "../api.js";
import { h, field, select, date, dateTime, badge, formDialog, toast, table, act } from "../ui.js";
import { pageHead } from "./common.js";

const addresses = (text) => text.split(/[,;\n]/).map((a) => a.trim()).filter(Boolean);

// --- sending an invoice --------------------------------------------------------------------------------------

export async function sendDialog(invoice) {
  const draft = await api(`/api/erp/invoices/${invoice.id}/mail-draft`);
  return formDialog({
    title: `Send ${invoice.number} by mail`,
    submitLabel: "Send",
    build: (body) => body.append(
      field("To", { name: "to", required: true, value: draft.to.join(", "), autocomplete: "off" }, "addresses, separated by commas"),
      field("Subject", { name: "subject", required: true, maxlength: 300, value: draft.subject }),
      field("Message", h("textarea", { name: "body", required: true, rows: 12, maxlength: 20000 }, draft.body),
        "from the invoice template; the PDF is attached"),
      h("p", { class: "muted small" }, "The message carries a link to the client's page: the invoice, its PDF and the payment details, no login needed.")),
    submit: async (data) => {
      const sent = await api(`/api/erp/invoices/${invoice.id}/send`, { method: "POST", json: {
        to: addresses(data.to), subject: data.subject, body: data.body,
      } });
      toast(`${invoice.number} is on its way to ${sent.to_addresses.join(", ")}.`);
      return sent;
    },
  });
}

// While a mail is queued the panel looks again every few seconds (for about a minute), so that "Queued" turns into
// "Sent" (or "Failed") without the person reloading the page; it stops once the panel has left the page.
const RECHECK_MS = 2000;
const RECHECKS = 30;

export async function mailPanel(invoice, rechecks = RECHECKS) {
  let mails = [];
  try {
    mails = await api(`/api/erp/invoices/${invoice.id}/mails`);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
  }
  const panel = mailSection(invoice, mails);
  if (rechecks > 0 && mails.some((m) => m.status === "queued")) {
    setTimeout(async () => {
      if (!panel.isConnected) return;
      const next = await mailPanel(invoice, rechecks - 1);
      if (panel.isConnected) panel.replaceWith(next);
    }, RECHECK_MS);
  }
  return panel;
}

function mailSection(invoice, mails) {
  return h("section", { class: "panel", "aria-labelledby": "inv-mail" }, h("h2", { id: "inv-mail" }, "Mail"),
    invoice.public_url ? h("p", {}, "The client's page: ",
      h("a", { href: invoice.public_url, id: "invoice-public-url", target: "_blank", rel: "noopener noreferrer" }, "open it as the client sees it"),
      h("span", { class: "muted small" }, ` (sent ${dateTime(invoice.sent_at)})`)) : null,
    table([
      { label: "Sent", value: (m) => dateTime(m.created_at) },
      { label: "What", value: (m) => (m.kind === "reminder" ? "Reminder" : "Invoice") },
      { label: "To", value: (m) => m.to_addresses.join(", ") },
      { label: "Subject", value: (m) => m.subject },
      { label: "Status", value: (m) => h("span", { class: "mail-status" }, badge(m.status), m.error ? h("span", { class: "muted small" }, ` ${m.error}`) : null) },
    ], mails, { empty: "Not sent yet." }));
}

// --- templates (Settings) ------------------------------------------------------------------------------------

function templateForm(template, writable) {
  const title = template.key === "invoice" ? "The invoice mail" : `Reminder, step ${template.key.split("-")[1]}`;
  const headingId = `tpl-${template.key}`;
  const errors = h("div", { "aria-live": "assertive" });
  const preview = h("div", { class: "template-preview", "aria-live": "polite" });
  const subject = h("input", { name: "subject", required: true, maxlength: 1000, value: template.subject, disabled: !writable, "aria-label": `Subject of ${title}` });
  const body = h("textarea", { name: "body", required: true, rows: 12, maxlength: 20000, disabled: !writable, "aria-label": `Body of ${title}` }, template.body);
  const source = () => ({ subject: subject.value, body: body.value });
  const showPreview = (button) => act(button, async () => {
    const rendered = await api(`/api/erp/mail-templates/${template.key}/preview`, { method: "POST", json: source() });
    preview.replaceChildren(h("h4", {}, "Preview (sample data)"), h("p", {}, h("strong", {}, rendered.subject)), h("pre", { class: "message" }, rendered.body));
  }, errors);
  const form = h("form", { class: "template-form", "aria-labelledby": headingId, novalidate: true },
    h("div", { class: "page-head" }, h("h3", { id: headingId }, title), template.is_default ? h("span", { class: "muted small" }, "default") : null),
    h("div", { class: "field" }, h("label", { for: `${headingId}-subject` }, "Subject"), Object.assign(subject, { id: `${headingId}-subject` })),
    h("div", { class: "field" }, h("label", { for: `${headingId}-body` }, "Body"), Object.assign(body, { id: `${headingId}-body` })),
    h("p", { class: "muted small" }, "Variables: ", template.variables.map((v, i) => [i ? ", " : "", h("code", {}, `{{ ${v} }}`)])),
    errors,
    writable ? h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", onclick: (e) => showPreview(e.currentTarget) }, "Preview"),
      template.is_default ? null : h("button", { type: "button", class: "secondary", onclick: (e) => act(e.currentTarget, async () => {
        const reset = await api(`/api/erp/mail-templates/${template.key}`, { method: "DELETE" });
        subject.value = reset.subject;
        body.value = reset.body;
        toast("Back to the default template.");
      }, errors) }, "Use the default"),
      h("button", { type: "submit" }, "Save template")) : null,
    preview);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    act(form.querySelector("button[type=submit]"), async () => {
      await api(`/api/erp/mail-templates/${template.key}`, { method: "PUT", json: source() });
      toast("Template saved.");
    }, errors);
  });
  return form;
}

export async function invoiceMailSettingsView(root, ctx) {
  const templates = await api("/api/erp/mail-templates");
  const writable = ctx.can("erp.mail_templates.write");
  root.append(pageHead("Invoice mail"),
    h("p", { class: "muted" }, "What an invoice and each reminder step say when they are mailed (the PDF is always attached). ",
      "Templates are checked when saved: a line that does not compile or names an unknown variable is refused. ",
      h("a", { href: "#/settings" }, "Back to Settings.")),
    h("section", { class: "panel" }, templates.map((t) => templateForm(t, writable))));
  return { events: [] };
}

// --- a client's reminder pause (the company page) ------------------------------------------------------------

function pauseText(client) {
  if (client.reminder_pause === "dispute") return "Paused: in dispute";
  if (client.reminder_pause === "promise") return `Paused: promised to pay by ${date(client.reminder_pause_until)}`;
  return "Active";
}

function pauseDialog(client) {
  return formDialog({
    title: `Pause reminders to ${client.name}`,
    submitLabel: "Pause reminders",
    build: (body) => body.append(
      field("Why", select({ name: "reason", required: true }, [["dispute", "The invoice is disputed"], ["promise", "A promise to pay"]], "promise")),
      field("Promised by", { name: "until", type: "date" }, "for a promise: reminders resume the day after"),
      field("Note", h("textarea", { name: "note", rows: 2, maxlength: 2000 }))),
    submit: (data) => api(`/api/erp/clients/${client.id}/reminder-pause`, { method: "PUT", json: {
      reason: data.reason, ...(data.reason === "promise" ? { until: data.until || null } : {}), ...(data.note ? { note: data.note } : {}),
    } }),
  });
}

export function reminderPause(client, ctx) {
  const writable = ctx.can("erp.clients.billing");
  const errors = h("div", { "aria-live": "assertive" });
  return [h("dt", {}, "Reminders"), h("dd", { id: "client-reminders" }, pauseText(client),
    client.reminder_pause_note ? h("span", { class: "muted small" }, ` (${client.reminder_pause_note})`) : null, " ",
    writable && !client.reminder_pause ? h("button", { type: "button", class: "secondary small", id: "pause-reminders", onclick: async () => {
      if (await pauseDialog(client)) { toast("Reminders paused."); ctx.refresh(); }
    } }, "Pause reminders") : null,
    writable && client.reminder_pause ? h("button", { type: "button", class: "secondary small", id: "resume-reminders", onclick: (e) => act(e.currentTarget, async () => {
      await api(`/api/erp/clients/${client.id}/reminder-pause`, { method: "DELETE" });
      toast("Reminders resumed.");
      ctx.refresh();
    }, errors) }, "Resume reminders") : null, errors)];
}

// --- Sent mail (admin) ---------------------------------------------------------------------------------------

async function download(name) {
  const response = await api(`/api/mail/sent/${encodeURIComponent(name)}/raw`, { raw: true, accept: "message/rfc822" });
  const url = URL.createObjectURL(await response.blob());
  const link = h("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

async function showMessage(slot, name) {
  const mail = await api(`/api/mail/sent/${encodeURIComponent(name)}`);
  const heading = h("h2", { id: "sent-mail-message", tabindex: "-1" }, mail.subject || "(no subject)");
  slot.replaceChildren(h("section", { class: "panel", "aria-labelledby": "sent-mail-message" }, heading,
    h("dl", { class: "facts" },
      h("dt", {}, "From"), h("dd", {}, mail.sender),
      h("dt", {}, "To"), h("dd", {}, mail.to.join(", ")),
      h("dt", {}, "Received"), h("dd", {}, dateTime(mail.received_at)),
      h("dt", {}, "Message-ID"), h("dd", {}, h("code", {}, mail.message_id || "—")),
      h("dt", {}, "Attachments"), h("dd", {}, mail.parts.length ? mail.parts.map((p) => `${p.filename} (${p.content_type}, ${Math.ceil(p.size / 1024)} KB)`).join("; ") : "none")),
    h("pre", { class: "message" }, mail.text || "(no text part)"),
    h("button", { type: "button", class: "secondary", onclick: (e) => act(e.currentTarget, () => download(mail.name), slot) }, "Download .eml")));
  heading.focus();
}

export async function sentMailView(root) {
  root.append(pageHead("Sent mail"));
  let page;
  try {
    page = await api("/api/mail/sent", { query: { limit: 100 } });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      root.append(h("p", { class: "notice" }, "This page is off: mail goes to a real SMTP server, and no copy is kept here."));
      return { events: [] };
    }
    throw error;
  }
  const detail = h("div", { "aria-live": "polite" });
  root.append(h("p", { class: "muted" }, `Every message the development SMTP server received (${page.total}), kept in ${page.directory}. Nothing here left this machine.`),
    table([
      { label: "Received", value: (m) => dateTime(m.received_at) },
      { label: "To", value: (m) => m.to.join(", ") },
      { label: "Subject", value: (m) => h("button", { type: "button", class: "link", onclick: (e) => act(e.currentTarget, () => showMessage(detail, m.name), detail) }, m.subject || "(no subject)") },
      { label: "Attachments", value: (m) => m.attachments.join(", ") || "—" },
    ], itemsOf(page), { empty: "No mail received yet." }),
    detail);
  return { events: ["invoice.sent", "mail.sent"] };
}
