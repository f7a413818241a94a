// Settings (admin, finance): our company, the seller on every invoice, and the tax rates invoice lines choose from.

import { api, optional, itemsOf, ApiError } from "../api.js";
import { h, field, select, formDialog, toast, table, act, label, errorBox } from "../ui.js";
import { pageHead } from "./common.js";

const LANGUAGES = [["en", "English"], ["de", "Deutsch"], ["fr", "Français"]];
const CATEGORIES = [["standard", "Standard"], ["reduced", "Reduced"], ["zero", "Zero rate"], ["exempt", "Exempt"], ["reverse_charge", "Reverse charge"]];

async function companyOrNull() {
  try {
    return await api("/api/erp/settings/company");
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

function bankRow(account = {}, index = 0) {
  return h("fieldset", { class: "bank-account", "aria-label": `Bank account ${index + 1}` },
    h("div", { class: "row" },
      field("IBAN", { name: "iban", value: account.iban || "", maxlength: 42, autocomplete: "off" }),
      field("BIC", { name: "bic", value: account.bic || "", maxlength: 11, autocomplete: "off" }, "optional in SEPA"),
      field("Bank name", { name: "bank_name", value: account.bank_name || "", maxlength: 100 })),
    h("button", { type: "button", class: "secondary small", onclick: (e) => e.currentTarget.closest("fieldset").remove() }, "Remove account"));
}

function companyForm(company, writable, ctx) {
  const c = company || {};
  const errors = h("div", { "aria-live": "assertive" });
  const accounts = h("div", { class: "bank-accounts" }, (c.bank_accounts || [{}]).map((a, i) => bankRow(a, i)));
  const control = (attrs) => ({ ...attrs, disabled: !writable });
  const form = h("form", { class: "company-form", "aria-labelledby": "set-company", novalidate: true },
    field("Legal name", control({ name: "legal_name", required: true, maxlength: 200, value: c.legal_name || "" })),
    field("Address", h("textarea", control({ name: "address_lines", rows: 2, maxlength: 800 }), (c.address_lines || []).join("\n")), "street, building; one line each"),
    h("div", { class: "row" },
      field("Postal code", control({ name: "postal_code", maxlength: 20, value: c.postal_code || "" })),
      field("City", control({ name: "city", maxlength: 100, value: c.city || "" })),
      field("Country", control({ name: "country", required: true, maxlength: 2, value: c.country || "", placeholder: "DE" }), "ISO code, two letters")),
    h("div", { class: "row" },
      field("VAT ID", control({ name: "vat_id", maxlength: 30, value: c.vat_id || "", placeholder: "DE136695976" }), "with its country prefix"),
      field("Registration number", control({ name: "registration_number", maxlength: 100, value: c.registration_number || "" }))),
    h("div", { class: "row" },
      field("Email", control({ name: "email", type: "email", value: c.email || "" })),
      field("Phone", control({ name: "phone", maxlength: 50, value: c.phone || "" })),
      field("Website", control({ name: "website", maxlength: 200, value: c.website || "" }))),
    h("h3", {}, "Bank accounts"), h("p", { class: "muted small" }, "The first one is printed on invoices and in the payment QR code."),
    accounts,
    writable ? h("button", { type: "button", class: "secondary", onclick: () => accounts.append(bankRow({}, accounts.children.length)) }, "Add bank account") : null,
    h("div", { class: "row" },
      field("Base currency", control({ name: "base_currency", required: true, maxlength: 3, value: c.base_currency || "EUR" })),
      field("Payment terms (days)", control({ name: "payment_terms_days", type: "number", min: 0, max: 365, value: c.payment_terms_days ?? 30 }), "for new clients"),
      field("Invoice language", select(control({ name: "invoice_language" }), LANGUAGES, c.invoice_language || "en"))),
    field("Invoice footer", h("textarea", control({ name: "invoice_footer", rows: 2, maxlength: 2000 }), c.invoice_footer || "")),
    errors,
    writable ? h("div", { class: "actions" }, h("button", { type: "submit", id: "save-company" }, "Save company")) : null);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    act(form.querySelector("#save-company"), async () => {
      const data = new FormData(form);
      const text = (name) => String(data.get(name) || "").trim();
      const body = {
        legal_name: text("legal_name"),
        address_lines: text("address_lines").split("\n").map((l) => l.trim()).filter(Boolean),
        postal_code: text("postal_code") || null, city: text("city") || null, country: text("country").toUpperCase(),
        vat_id: text("vat_id") || null, registration_number: text("registration_number") || null,
        email: text("email") || null, phone: text("phone") || null, website: text("website") || null,
        bank_accounts: [...accounts.querySelectorAll("fieldset")].map((set) => ({
          iban: set.querySelector("[name=iban]").value.trim(), bic: set.querySelector("[name=bic]").value.trim() || null,
          bank_name: set.querySelector("[name=bank_name]").value.trim() || null,
        })).filter((a) => a.iban),
        base_currency: text("base_currency").toUpperCase(), payment_terms_days: Number(text("payment_terms_days") || 30),
        invoice_language: text("invoice_language") || "en", invoice_footer: text("invoice_footer") || null,
      };
      await api("/api/erp/settings/company", { method: "PUT", json: body });
      toast("Company saved.");
      ctx.refresh();
    }, errors);
  });
  return form;
}

function logoPanel(company, writable, ctx) {
  if (!company) return h("p", { class: "muted" }, "Save the company first, then add its logo.");
  const errors = h("div", { "aria-live": "assertive" });
  const input = h("input", { type: "file", name: "logo", accept: "image/png,image/jpeg", id: "logo-file", disabled: !writable });
  const preview = h("div", { class: "logo-preview" });
  if (company.logo_sha256) {
    api("/api/erp/settings/company/logo", { raw: true, accept: "image/*" })
      .then((r) => r.blob()).then((blob) => preview.replaceChildren(h("img", { src: URL.createObjectURL(blob), alt: "Current logo" })))
      .catch(() => {});
  }
  return h("div", {}, preview, writable ? [
    field("Logo (PNG or JPEG, at most 512 KB)", input),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", onclick: (e) => act(e.currentTarget, async () => {
        if (!input.files.length) throw new ApiError(422, { title: "Choose a file", detail: "Choose a PNG or JPEG image first." });
        const body = new FormData();
        body.append("file", input.files[0]);
        await api("/api/erp/settings/company/logo", { method: "PUT", multipart: body });
        toast("Logo saved.");
        ctx.refresh();
      }, errors) }, "Upload logo"),
      company.logo_sha256 ? h("button", { type: "button", class: "secondary", onclick: (e) => act(e.currentTarget, async () => {
        await api("/api/erp/settings/company/logo", { method: "DELETE" });
        ctx.refresh();
      }, errors) }, "Remove logo") : null),
  ] : null, errors);
}

function taxRateDialog(ctx) {
  return formDialog({
    title: "Add a tax rate",
    submitLabel: "Add tax rate",
    build: (body) => body.append(
      field("Name", { name: "name", required: true, maxlength: 100, placeholder: "Reduced 7 %" }),
      h("div", { class: "row" },
        field("Category", select({ name: "category" }, CATEGORIES, "standard")),
        field("Percent", { name: "percent", required: true, inputmode: "decimal", value: "0" })),
      field("Legal note", h("textarea", { name: "legal_note", rows: 2, maxlength: 1000 }), "printed on the invoice; required for exempt and reverse charge"),
      h("div", { class: "field" }, h("input", { type: "checkbox", name: "is_default", id: "rate-default" }),
        h("label", { for: "rate-default", style: "display:inline;margin-left:.4rem" }, "Default for lines that name no rate"))),
    submit: async (data) => {
      const rate = await api("/api/erp/tax-rates", { method: "POST", json: {
        name: data.name, category: data.category, percent: data.percent, legal_note: data.legal_note || null, is_default: Boolean(data.is_default),
      } });
      toast(`Tax rate “${rate.name}” added.`);
      ctx.refresh();
      return rate;
    },
  });
}

function taxRatesPanel(rates, writable, ctx) {
  const errors = h("div", { "aria-live": "assertive" });
  const change = (rate, patch, done) => (e) => act(e.currentTarget, async () => {
    await api(`/api/erp/tax-rates/${rate.id}`, { method: "PATCH", json: patch });
    toast(done);
    ctx.refresh();
  }, errors);
  return h("div", {},
    errors,
    table([
      { label: "Name", value: (r) => r.name },
      { label: "Category", value: (r) => `${label(r.category)} (${r.en16931_code})` },
      { label: "Percent", value: (r) => `${r.percent} %`, num: true },
      { label: "Legal note", value: (r) => r.legal_note || "—" },
      { label: "Default", value: (r) => (r.is_default ? "Default" : "") },
      { label: "Status", value: (r) => (r.active ? "Active" : "Archived") },
      ...(writable ? [{ label: "Actions", value: (r) => h("div", { class: "actions" },
        r.active && !r.is_default ? h("button", { type: "button", class: "secondary small", "aria-label": `Make default: ${r.name}`, onclick: change(r, { is_default: true }, `${r.name} is the default.`) }, "Make default") : null,
        !r.is_default ? h("button", { type: "button", class: "secondary small", "aria-label": `${r.active ? "Archive" : "Restore"} ${r.name}`,
          onclick: change(r, { active: !r.active }, `${r.name} ${r.active ? "archived" : "restored"}.`) }, r.active ? "Archive" : "Restore") : null) }] : []),
    ], rates, { empty: "No tax rates yet.", rowAttrs: (r) => ({ "data-rate": r.name }) }));
}

export async function settingsView(root, ctx) {
  const [company, rates] = await Promise.all([companyOrNull(), optional(api("/api/erp/tax-rates", { query: { limit: 200 } }))]);
  const writeCompany = ctx.can("erp.company.write");
  const writeRates = ctx.can("erp.tax_rates.write");
  root.append(...[
    pageHead("Settings", h("a", { class: "button secondary", href: "#/settings/invoice-mail", id: "invoice-mail-settings" }, "Invoice mail templates")),
    company ? null : h("p", { class: "notice", id: "company-missing" }, "Your company is not set up yet: invoices need it to name their seller, VAT ID and bank details."),
    h("section", { class: "panel", "aria-labelledby": "set-company" }, h("h2", { id: "set-company" }, "Our company"),
      companyForm(company, writeCompany, ctx)),
    h("section", { class: "panel", "aria-labelledby": "set-logo" }, h("h2", { id: "set-logo" }, "Logo"), logoPanel(company, writeCompany, ctx)),
    h("section", { class: "panel", "aria-labelledby": "set-taxes" },
      h("div", { class: "page-head" }, h("h2", { id: "set-taxes" }, "Tax rates"),
        writeRates && rates !== null ? h("button", { type: "button", class: "secondary", onclick: () => taxRateDialog(ctx) }, "Add tax rate") : null),
      h("p", { class: "muted small" }, "Lines keep the rate they were written with: changing a rate never changes an invoice already written. Reverse charge is proposed for business clients with a VAT ID of another EU country."),
      rates === null ? errorBox(new ApiError(404, {}), "Tax rates") : taxRatesPanel(itemsOf(rates), writeRates, ctx)),
  ].filter(Boolean));
  return { events: [] };
}
