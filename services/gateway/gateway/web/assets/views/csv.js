// Import and export: a CSV file from another tool (HubSpot, Pipedrive, a spreadsheet) imported through a column
// mapping the CRM proposes, a preview, then the import and its report; and the exports, with names, as CSV.

import { api } from "../api.js";
import { h, field, select, table, errorBox, toast, announce, badge } from "../ui.js";
import { pageHead, DATE_BOUNDS } from "./common.js";

const ENTITIES = [["contacts", "Contacts"], ["companies", "Companies"], ["leads", "Leads"], ["deals", "Deals"]];
const FIELD_LABELS = {
  first_name: "First name", last_name: "Last name", full_name: "Full name (split)", email: "Email", phone: "Phone",
  title: "Job title", company_id: "Company id", company_name: "Company name", company_domain: "Company domain",
  owner_id: "Owner (user id)", name: "Name", domain: "Domain or website", address: "Address", industry: "Industry",
  size: "Employees", company_size: "Company size", message: "Message", source: "Source", status: "Status",
  contact_email: "Contact email", amount: "Amount", currency: "Currency", pipeline: "Pipeline", stage: "Stage",
  expected_close_date: "Expected close date", billing: "Billing terms (JSON)",
};
const ERP_EXPORTS = [["invoices", "Invoices"], ["payments", "Payments"], ["time-entries", "Time entries"], ["expenses", "Expenses"]];

// Download a CSV export: fetched with the session's token (a plain link would carry none), saved under the name the
// server gives in Content-Disposition.
export async function downloadCsv(path, query = {}) {
  const response = await api(path, { query, accept: "text/csv", raw: true });
  const disposition = response.headers.get("content-disposition") || "";
  const name = decodeURIComponent((disposition.match(/filename\*=UTF-8''([^;]+)/) || [])[1] || "")
    || (disposition.match(/filename="([^"]+)"/) || [])[1] || "export.csv";
  const url = URL.createObjectURL(await response.blob());
  const link = h("a", { href: url, download: name, class: "visually-hidden" }, name);
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  announce(`Downloaded ${name}`);
  return name;
}

// "Export CSV" with an optional date range, for an ERP list (invoices, payments, time entries, expenses).
export function exportControls(kind, labelText) {
  const from = h("input", { type: "date", name: "date_from", min: DATE_BOUNDS.min, max: DATE_BOUNDS.max });
  const to = h("input", { type: "date", name: "date_to", min: DATE_BOUNDS.min, max: DATE_BOUNDS.max });
  const errors = h("div", { "aria-live": "assertive" });
  const button = h("button", { type: "submit", class: "secondary" }, `Export ${labelText} (CSV)`);
  const form = h("form", { class: "filters export-form", "aria-label": `Export ${labelText}` },
    field("From", from), field("To", to), button, errors);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.replaceChildren();
    button.disabled = true;
    try {
      const name = await downloadCsv(`/api/erp/export/${kind}`, { date_from: from.value, date_to: to.value });
      toast(`Exported ${name}.`);
    } catch (error) {
      errors.replaceChildren(errorBox(error));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

// The export forms of a list screen, folded away under "Export as CSV" until wanted.
export function exportPanel(kinds) {
  return h("details", { class: "panel export-panel" }, h("summary", {}, "Export as CSV"),
    kinds.map(([kind, text]) => exportControls(kind, text)));
}

function fieldOptions(proposal) {
  return [["", "Not imported"], ...proposal.fields.map((f) => [f, `${FIELD_LABELS[f] || f}${proposal.required.includes(f) ? " (required)" : ""}`])];
}

function mappingOf(container) {
  const mapping = {};
  for (const choice of container.querySelectorAll("select[data-column]")) mapping[choice.dataset.column] = choice.value || null;
  return JSON.stringify(mapping);
}

// The problems of rows beyond the preview's first ones (none: nothing to show).
function further(preview) {
  const shown = new Set(preview.items.map((i) => i.row));
  const rest = preview.problems.filter((p) => !shown.has(p.row));
  return rest.length ? [h("p", { class: "notice", id: "preview-further" }, `Further problems: ${rest.map((p) => `line ${p.row}: ${problemsText([p])}`).join("; ")}`)] : [];
}

function problemsText(problems) {
  return problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join("; ");
}

function importSection() {
  const entity = select({ name: "entity", id: "import-entity" }, ENTITIES, "contacts");
  const file = h("input", { type: "file", name: "file", id: "import-file", accept: ".csv,text/csv", required: true });
  const update = h("input", { type: "checkbox", id: "import-update", checked: true });
  const errors = h("div", { "aria-live": "assertive" });
  const mappingSlot = h("div", { id: "import-mapping" });
  const previewSlot = h("div", { id: "import-preview", "aria-live": "polite" });
  const reportSlot = h("div", { id: "import-report", "aria-live": "polite" });
  let body = null;

  const onMatch = () => (update.checked ? "update" : "refuse");
  const csvBody = () => new Blob([body], { type: "text/csv" });
  const run = async (button, work) => {
    errors.replaceChildren();
    button.disabled = true;
    try { await work(); } catch (error) { errors.replaceChildren(errorBox(error)); } finally { button.disabled = false; }
  };

  const read = h("button", { type: "submit" }, "Read the file");
  const form = h("form", { class: "panel", "aria-labelledby": "import-title" },
    h("h2", { id: "import-title" }, "Import a CSV file"),
    h("p", { class: "muted" }, "Exports from HubSpot, Pipedrive or a spreadsheet import as they are: choose what each column holds, look at the preview, then import. A company with a known domain and a contact with a known email are updated, not duplicated."),
    h("div", { class: "row" }, field("Import", entity), field("CSV file", file, "UTF-8, first line names the columns")),
    h("div", { class: "field" }, update, h("label", { for: "import-update", class: "inline" }, "Update records matched by email (contacts) or domain (companies)")),
    read, errors, mappingSlot, previewSlot, reportSlot);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    run(read, async () => {
      body = await file.files[0].text();
      previewSlot.replaceChildren();
      reportSlot.replaceChildren();
      const proposal = await api(`/api/crm/import/${entity.value}/mapping`, { method: "POST", multipart: csvBody() });
      const options = fieldOptions(proposal);
      const rows = proposal.columns.map((c) => ({ ...c, choice: select({ "data-column": c.source, "aria-label": `Import the column ${c.source} as` }, options, c.target || "") }));
      const previewButton = h("button", { type: "button", id: "import-preview-button" }, "Preview");
      const importButton = h("button", { type: "button", id: "import-commit", class: "secondary" }, `Import ${proposal.rows} rows`);
      previewButton.addEventListener("click", () => run(previewButton, async () => {
        const preview = await api(`/api/crm/import/${entity.value}/preview`, { method: "POST", multipart: csvBody(), query: { mapping: mappingOf(mappingSlot), on_match: onMatch() } });
        const fields = [...new Set(preview.items.flatMap((i) => Object.keys(i.values)))];
        previewSlot.replaceChildren(h("h3", {}, "Preview"),
          h("p", { id: "preview-summary" }, `${preview.rows} rows: ${preview.created} to create, ${preview.updated} to update, ${preview.refused} refused. Nothing has been written yet.`),
          table([
            { label: "Line", value: (i) => String(i.row), num: true },
            { label: "Action", value: (i) => badge(i.action === "refused" ? "rejected" : i.action === "updated" ? "reached" : "new") },
            ...fields.map((f) => ({ label: FIELD_LABELS[f] || f, value: (i) => i.values[f] || "" })),
            { label: "Problems", value: (i) => problemsText(i.problems) },
          ], preview.items, { caption: `The first ${preview.items.length} rows as they would be imported` }),
          ...further(preview));
        announce(`Preview: ${preview.created} to create, ${preview.updated} to update, ${preview.refused} refused`);
      }));
      importButton.addEventListener("click", () => run(importButton, async () => {
        const result = await api(`/api/crm/import/${entity.value}`, { method: "POST", multipart: csvBody(), query: { mapping: mappingOf(mappingSlot), on_match: onMatch() } });
        reportSlot.replaceChildren(h("h3", {}, "Report"),
          h("p", { id: "import-summary", class: result.refused ? "notice" : "" }, `Imported: ${result.created} created, ${result.updated} updated, ${result.refused} refused.`),
          table([
            { label: "Line", value: (r) => String(r.row), num: true },
            { label: "Result", value: (r) => r.action },
            { label: "Why / note", value: (r) => [r.field, r.message].filter(Boolean).join(": ") },
          ], result.report, { caption: "Every row of the file" }));
        toast(`Import done: ${result.created} created, ${result.updated} updated, ${result.refused} refused.`);
        announce(`Import done: ${result.created} created, ${result.updated} updated, ${result.refused} refused`);
      }));
      mappingSlot.replaceChildren(h("h3", { class: "mapping" }, "Columns"),
        h("p", { class: "muted" }, `${proposal.rows} rows. Each column's field is proposed from its name; change any, or choose "Not imported".`),
        table([
          { label: "Column in the file", value: (c) => c.source },
          { label: "Sample values", value: (c) => c.samples.join(", ") },
          { label: "Import as", value: (c) => c.choice },
        ], rows, { caption: "Column mapping" }),
        h("div", { class: "actions" }, previewButton, importButton));
      announce(`${proposal.columns.length} columns read; check the mapping`);
    });
  });
  return form;
}

function crmExports() {
  const errors = h("div", { "aria-live": "assertive" });
  return h("div", {}, h("h3", {}, "CRM"), h("div", { class: "actions" }, ENTITIES.map(([value, text]) =>
    h("button", { type: "button", class: "secondary", onclick: async (e) => {
      const button = e.currentTarget;
      button.disabled = true;
      errors.replaceChildren();
      try { toast(`Exported ${await downloadCsv(`/api/crm/export/${value}`)}.`); } catch (error) { errors.replaceChildren(errorBox(error)); } finally { button.disabled = false; }
    } }, `Export ${text.toLowerCase()} (CSV)`))), errors);
}

export async function importExportView(root, ctx) {
  root.append(pageHead("Import and export"));
  if (ctx.can("crm.csv.import")) root.append(importSection());
  root.append(h("section", { class: "panel", "aria-labelledby": "export-title" },
    h("h2", { id: "export-title" }, "Export"),
    h("p", { class: "muted" }, "Spreadsheet-safe CSV files (no cell runs as a formula) naming clients, companies, projects and people rather than ids."),
    ctx.can("crm.csv.export") ? crmExports() : null,
    ctx.can("erp.read") ? h("div", {}, h("h3", {}, "ERP"), ERP_EXPORTS.map(([kind, text]) => exportControls(kind, text.toLowerCase()))) : null));
  return { events: [] };
}
