// Companies: the list and the company page (overview from the gateway, deals, timeline).

import { api, optional, itemsOf, ApiError } from "../api.js";
import { h, field, money, moneyByCurrency, addTo, date, badge, formDialog, toast, table, unavailable } from "../ui.js";
import { pageHead, timeline, followUpForms, colleagues, personName, personSelect } from "./common.js";
import { newDealDialog } from "./deals.js";
import { composeButton } from "./mail.js";
import { changes, contactDialog } from "./contacts.js";
import { reminderPause } from "./invoice_mail.js";

const COMPANY_FIELDS = ["name", "domain", "email", "phone", "address", "industry", "size", "owner_id"];

function editCompanyDialog(company, people) {
  return formDialog({
    title: `Edit ${company.name}`,
    submitLabel: "Save company",
    build: (body) => body.append(
      field("Name", { name: "name", required: true, maxlength: 200, value: company.name }),
      h("div", { class: "row" },
        field("Domain", { name: "domain", maxlength: 253, value: company.domain || "", placeholder: "example.com" }),
        field("Email", { name: "email", type: "email", value: company.email || "" }, "invoices and reminders go here")),
      h("div", { class: "row" },
        field("Phone", { name: "phone", type: "tel", maxlength: 50, value: company.phone || "" }),
        field("Industry", { name: "industry", maxlength: 100, value: company.industry || "" }),
        field("Employees", { name: "size", type: "number", min: 1, max: 10000000, value: company.size ?? "" })),
      field("Address", h("textarea", { name: "address", maxlength: 2000, rows: 3 }, company.address || "")),
      field("Owner", personSelect({ name: "owner_id" }, people, company.owner_id, { none: "Nobody" }))),
    submit: async (data) => {
      const body = changes({ ...data, size: data.size === "" ? "" : Number(data.size) }, company, COMPANY_FIELDS);
      return Object.keys(body).length ? api(`/api/crm/companies/${company.id}`, { method: "PATCH", json: body }) : company;
    },
  });
}

// The ERP's own fields of the client this company is (finance keeps them): where invoices are addressed, the VAT ID
// printed on them, payment terms and currency. The billing email is the company's email, replicated to the ERP.
function billingDialog(client) {
  return formDialog({
    title: `Billing details of ${client.name}`,
    submitLabel: "Save billing details",
    build: (body) => body.append(
      field("Billing address", h("textarea", { name: "billing_address", maxlength: 2000, rows: 3 }, client.billing_address || "")),
      h("div", { class: "row" },
        field("VAT ID", { name: "tax_id", maxlength: 50, value: client.tax_id || "" }),
        field("Payment terms (days)", { name: "payment_terms_days", type: "number", min: 0, max: 365, value: client.payment_terms_days ?? 30 }),
        field("Currency", { name: "currency", maxlength: 3, pattern: "^[A-Z]{3}$", value: client.currency || "" }))),
    submit: (data) => api(`/api/erp/clients/${client.id}`, { method: "PATCH", json: {
      billing_address: data.billing_address || null, tax_id: data.tax_id || null,
      payment_terms_days: Number(data.payment_terms_days), currency: data.currency ? data.currency.toUpperCase() : null,
    } }),
  });
}

function newCompanyDialog() {
  return formDialog({
    title: "New company",
    submitLabel: "Create company",
    build: (body) => body.append(
      field("Name", { name: "name", required: true, maxlength: 200 }),
      h("div", { class: "row" },
        field("Domain", { name: "domain", placeholder: "example.com" }),
        field("Email", { name: "email", type: "email" })),
      field("Phone", { name: "phone", type: "tel" })),
    submit: async (data) => {
      const body = Object.fromEntries(Object.entries(data).filter(([, v]) => v !== ""));
      const company = await api("/api/crm/companies", { method: "POST", json: body });
      toast(`Company “${company.name}” created.`);
      return company;
    },
  });
}

export async function companiesView(root, ctx) {
  const q = ctx.query.get("q") || "";
  const offset = Number(ctx.query.get("offset") || 0);
  const page = await api("/api/crm/companies", { query: { q, limit: 50, offset } });
  const search = h("input", { type: "search", name: "q", value: q });
  const form = h("form", { class: "filters", role: "search" }, field("Search name, domain or email", search),
    h("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (e) => { e.preventDefault(); ctx.navigate(`/companies?q=${encodeURIComponent(search.value)}`); });
  const rows = itemsOf(page);
  const total = page.total ?? rows.length;
  root.append(
    pageHead("Companies", ctx.can("crm.companies.write") ? h("button", { type: "button", onclick: async () => {
      const c = await newCompanyDialog();
      if (c) ctx.navigate(`/companies/${c.id}`);
    } }, "New company") : null),
    form,
    table([
      { label: "Name", value: (c) => h("a", { href: `#/companies/${c.id}` }, c.name) },
      { label: "Domain", value: (c) => c.domain || "—" },
      { label: "Email", value: (c) => c.email || "—" },
      { label: "Industry", value: (c) => c.industry || "—" },
    ], rows, { empty: q ? "No company matches." : "No companies yet." }),
    h("p", { class: "muted small" }, `${rows.length ? offset + 1 : 0}–${offset + rows.length} of ${total}`,
      offset > 0 ? [" ", h("a", { href: `#/companies?q=${encodeURIComponent(q)}&offset=${Math.max(0, offset - 50)}` }, "Previous")] : null,
      offset + rows.length < total ? [" ", h("a", { href: `#/companies?q=${encodeURIComponent(q)}&offset=${offset + 50}` }, "Next")] : null));
  return { events: ["company."] };
}

export async function companyView(root, ctx) {
  const [id] = ctx.params;
  let company;
  try {
    company = await api(`/api/crm/companies/${id}`);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 422)) {
      root.append(pageHead("Company not found"), h("p", {}, "This company does not exist. ", h("a", { href: "#/companies" }, "Back to companies.")));
      return { events: [] };
    }
    throw error;
  }
  const [overview, deals, events, people, contacts, clients] = await Promise.all([
    optional(api(`/api/customers/${id}/overview`)),
    api("/api/crm/deals", { query: { company_id: id, limit: 200 } }),
    timeline({ company_id: id }),
    colleagues(),
    optional(api("/api/crm/contacts", { query: { company_id: id, limit: 100 } })),
    optional(api("/api/erp/clients", { query: { crm_company_id: id, limit: 1 } })),
  ]);
  const client = itemsOf(clients)[0] || null;
  const billingWriter = ctx.can("erp.clients.billing");
  const dealRows = itemsOf(deals);
  const projects = overview ? itemsOf(overview.projects) : [];
  const invoices = overview ? itemsOf(overview.invoices) : [];
  let balance = null;
  if (overview && Array.isArray(overview.balance_due)) {
    balance = moneyByCurrency(overview.balance_due.reduce((t, b) => addTo(t, b.currency, b.amount), {}), "Nothing due");
  }
  const warnings = overview ? itemsOf(overview.warnings) : [];
  const openTotals = {};
  for (const d of dealRows.filter((d) => d.status === "open")) addTo(openTotals, d.currency, d.amount);
  root.append(
    pageHead(company.name,
      ctx.can("crm.companies.write") ? h("button", { type: "button", class: "secondary", onclick: async () => {
        if (await editCompanyDialog(company, people)) { toast("Company saved."); ctx.refresh(); }
      } }, "Edit") : null,
      ctx.can("crm.deals.write") ? h("button", { type: "button", onclick: async () => {
        const deal = await newDealDialog(ctx, company.id);
        if (deal) ctx.refresh();
      } }, "New deal") : null),
    h("div", { class: "grid-2" },
      h("section", { class: "panel", "aria-labelledby": "co-facts" }, h("h2", { id: "co-facts" }, "Company"),
        h("dl", { class: "facts" },
          h("dt", {}, "Domain"), h("dd", {}, company.domain || "—"),
          h("dt", {}, "Email"), h("dd", {}, company.email || "—"),
          h("dt", {}, "Phone"), h("dd", {}, company.phone || "—"),
          h("dt", {}, "Address"), h("dd", { class: "message" }, company.address || "—"),
          h("dt", {}, "Industry"), h("dd", {}, company.industry || "—"),
          h("dt", {}, "Owner"), h("dd", {}, personName(people, company.owner_id)),
          h("dt", {}, "Open pipeline"), h("dd", {}, moneyByCurrency(openTotals)),
          h("dt", {}, "Balance due"), h("dd", { id: "company-balance" }, balance ?? "Not available")),
        warnings.length ? h("p", { class: "notice" }, `Part of this overview is missing: ${warnings.map((w) => w.detail).join(" ")}`) : null,
        h("div", { class: "page-head" }, h("h3", { id: "co-billing" }, "Billing"),
          billingWriter && client ? h("button", { type: "button", class: "secondary", onclick: async () => {
            if (await billingDialog(client)) { toast("Billing details saved."); ctx.refresh(); }
          } }, "Edit billing details") : null),
        client ? h("dl", { class: "facts", "aria-labelledby": "co-billing" },
          h("dt", {}, "Billing address"), h("dd", { class: "message", id: "client-billing-address" }, client.billing_address || company.address || "—"),
          h("dt", {}, "VAT ID"), h("dd", { id: "client-tax-id" }, client.tax_id || "—"),
          h("dt", {}, "Billing email"), h("dd", {}, client.email || "—"),
          h("dt", {}, "Payment terms"), h("dd", {}, `${client.payment_terms_days} days`),
          h("dt", {}, "Currency"), h("dd", {}, client.currency || "—"),
          reminderPause(client, ctx))
          : h("p", { class: "muted small" }, clients === null ? "Billing details are not available on this server." : "The ERP has not received this company yet."),
        h("div", { class: "page-head" }, h("h3", {}, "Contacts"),
          ctx.can("crm.contacts.write") ? h("button", { type: "button", class: "secondary", onclick: async () => {
            if (await contactDialog(ctx, null, company.id)) ctx.refresh();
          } }, "New contact") : null),
        table([
          { label: "Name", value: (c) => h("a", { href: `#/contacts/${c.id}` }, c.full_name) },
          { label: "Email", value: (c) => c.email || "—" },
          { label: "Title", value: (c) => c.title || "—" },
        ], itemsOf(contacts), { empty: "No contacts yet." }),
        h("h3", {}, "Deals"),
        table([
          { label: "Deal", value: (d) => h("a", { href: `#/deals/${d.id}` }, d.title) },
          { label: "Status", value: (d) => badge(d.status) },
          { label: "Amount", value: (d) => money(d.amount, d.currency), num: true },
        ], dealRows, { empty: "No deals yet." }),
        h("h3", {}, "Projects and invoices"),
        overview ? [
          table([
            { label: "Project", value: (p) => h("a", { href: `#/projects/${p.id}` }, p.name) },
            { label: "Status", value: (p) => badge(p.status) },
            { label: "Budget", value: (p) => money(p.budget_amount, p.currency), num: true },
          ], projects, { empty: "No projects yet." }),
          table([
            { label: "Invoice", value: (i) => h("a", { href: `#/invoices/${i.id}` }, i.number || "Draft") },
            { label: "Status", value: (i) => badge(i.overdue ? "overdue" : i.status) },
            { label: "Due", value: (i) => date(i.due_date) },
            { label: "Balance", value: (i) => money(i.balance_due, i.currency), num: true },
          ], invoices, { empty: "No invoices yet." }),
        ] : unavailable("The customer overview")),
      h("section", { class: "panel", "aria-labelledby": "co-timeline" },
        h("div", { class: "page-head" }, h("h2", { id: "co-timeline" }, "Timeline"),
          h("div", { class: "actions" }, composeButton(ctx, { company_id: company.id }, company.email), followUpForms(ctx, { company_id: company.id }))),
        events)));
  return { events: ["company.", "contact.", "deal.", "project.", "invoice.", "payment.", "task.", "activity.", "mail."] };
}
