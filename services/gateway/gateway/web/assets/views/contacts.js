// Contacts: the list (search), the contact page (details, edit, timeline, follow-ups) and the contact form the company
// page shares.

import { api, all, optional, itemsOf, ApiError } from "../api.js";
import { h, field, select, formDialog, confirmDialog, toast, table, act } from "../ui.js";
import { pageHead, timeline, followUpForms, companyNames, colleagues, personName, personSelect } from "./common.js";
import { composeButton, consentBox, enrolmentTable } from "./mail.js";

// Only what changed is sent; an emptied field is cleared (null).
export function changes(data, before, names) {
  const out = {};
  for (const name of names) {
    const value = data[name] === undefined ? undefined : (data[name] === "" ? null : data[name]);
    if (value !== undefined && value !== (before?.[name] ?? null)) out[name] = value;
  }
  return out;
}

const CONTACT_FIELDS = ["first_name", "last_name", "email", "phone", "title", "company_id", "owner_id"];

export async function contactDialog(ctx, contact, companyId) {
  const [companies, people] = await Promise.all([all("/api/crm/companies", {}, 2000), colleagues()]);
  return formDialog({
    title: contact ? `Edit ${contact.full_name}` : "New contact",
    submitLabel: contact ? "Save contact" : "Create contact",
    build: (body) => body.append(
      h("div", { class: "row" },
        field("First name", { name: "first_name", required: true, maxlength: 100, value: contact?.first_name || "" }),
        field("Last name", { name: "last_name", maxlength: 100, value: contact?.last_name || "" })),
      h("div", { class: "row" },
        field("Email", { name: "email", type: "email", value: contact?.email || "" }),
        field("Phone", { name: "phone", type: "tel", maxlength: 50, value: contact?.phone || "" })),
      field("Job title", { name: "title", maxlength: 100, value: contact?.title || "" }),
      field("Company", select({ name: "company_id" }, [["", "No company"],
        ...companies.map((c) => [c.id, c.name]).sort((a, b) => a[1].localeCompare(b[1]))], contact?.company_id || companyId || "")),
      field("Owner", personSelect({ name: "owner_id" }, people, contact ? contact.owner_id : ctx.me.id, { none: "Nobody" }))),
    submit: async (data) => {
      if (contact) {
        const body = changes(data, contact, CONTACT_FIELDS);
        if (body.last_name === null) body.last_name = "";
        const saved = Object.keys(body).length ? await api(`/api/crm/contacts/${contact.id}`, { method: "PATCH", json: body }) : contact;
        toast("Contact saved.");
        return saved;
      }
      const created = await api("/api/crm/contacts", { method: "POST", json: Object.fromEntries(Object.entries(data).filter(([, v]) => v !== "")) });
      toast(`Contact ${created.full_name} created.`);
      return created;
    },
  });
}

export async function contactsView(root, ctx) {
  const q = ctx.query.get("q") || "";
  const offset = Number(ctx.query.get("offset") || 0);
  const [page, names] = await Promise.all([api("/api/crm/contacts", { query: { q, limit: 50, offset } }), companyNames()]);
  const search = h("input", { type: "search", name: "q", value: q });
  const form = h("form", { class: "filters", role: "search" }, field("Search name, email or phone", search), h("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (e) => { e.preventDefault(); ctx.navigate(`/contacts?q=${encodeURIComponent(search.value)}`); });
  const rows = itemsOf(page);
  const total = page.total ?? rows.length;
  root.append(
    pageHead("Contacts", ctx.can("crm.contacts.write") ? h("button", { type: "button", onclick: async () => {
      const c = await contactDialog(ctx);
      if (c) ctx.navigate(`/contacts/${c.id}`);
    } }, "New contact") : null),
    form,
    table([
      { label: "Name", value: (c) => h("a", { href: `#/contacts/${c.id}` }, c.full_name) },
      { label: "Company", value: (c) => (c.company_id ? h("a", { href: `#/companies/${c.company_id}` }, names[c.company_id] || "Company") : "—") },
      { label: "Email", value: (c) => c.email || "—" },
      { label: "Phone", value: (c) => c.phone || "—" },
      { label: "Title", value: (c) => c.title || "—" },
    ], rows, { empty: q ? "No contact matches." : "No contacts yet." }),
    h("p", { class: "muted small" }, `${rows.length ? offset + 1 : 0}–${offset + rows.length} of ${total}`,
      offset > 0 ? [" ", h("a", { href: `#/contacts?q=${encodeURIComponent(q)}&offset=${Math.max(0, offset - 50)}` }, "Previous")] : null,
      offset + rows.length < total ? [" ", h("a", { href: `#/contacts?q=${encodeURIComponent(q)}&offset=${offset + 50}` }, "Next")] : null));
  return { events: ["contact."] };
}

export async function contactView(root, ctx) {
  const [id] = ctx.params;
  let contact;
  try {
    contact = await api(`/api/crm/contacts/${id}`);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 422)) {
      root.append(pageHead("Contact not found"), h("p", {}, "This contact does not exist. ", h("a", { href: "#/contacts" }, "Back to contacts.")));
      return { events: [] };
    }
    throw error;
  }
  const [company, deals, events, people, consent, enrolments] = await Promise.all([
    contact.company_id ? optional(api(`/api/crm/companies/${contact.company_id}`)) : null,
    optional(api("/api/crm/deals", { query: { contact_id: contact.id, limit: 100 } })),
    timeline({ contact_id: contact.id }),
    colleagues(),
    optional(api(`/api/crm/contacts/${contact.id}/consent`)),
    optional(api("/api/crm/enrolments", { query: { contact_id: contact.id, limit: 100 } })),
  ]);
  const writer = ctx.can("crm.contacts.write");
  const errors = h("div", { "aria-live": "assertive" });
  root.append(
    pageHead(contact.full_name,
      composeButton(ctx, { contact_id: contact.id }, contact.email),
      writer ? h("button", { type: "button", onclick: async () => { if (await contactDialog(ctx, contact)) ctx.refresh(); } }, "Edit") : null,
      writer ? h("button", { type: "button", class: "secondary danger-text", onclick: (e) => act(e.currentTarget, async () => {
        if (!(await confirmDialog(`Delete ${contact.full_name}?`, "Delete contact"))) return;
        await api(`/api/crm/contacts/${contact.id}`, { method: "DELETE" });
        toast("Contact deleted.");
        ctx.navigate("/contacts");
      }, errors) }, "Delete") : null),
    errors,
    h("div", { class: "grid-2" },
      h("section", { class: "panel", "aria-labelledby": "ct-facts" }, h("h2", { id: "ct-facts" }, "Contact"),
        h("dl", { class: "facts" },
          h("dt", {}, "Company"), h("dd", {}, company ? h("a", { href: `#/companies/${company.id}` }, company.name) : "—"),
          h("dt", {}, "Job title"), h("dd", {}, contact.title || "—"),
          h("dt", {}, "Email"), h("dd", { id: "contact-email" }, contact.email ? h("a", { href: `mailto:${contact.email}` }, contact.email) : "—"),
          h("dt", {}, "Phone"), h("dd", {}, contact.phone || "—"),
          h("dt", {}, "Owner"), h("dd", {}, personName(people, contact.owner_id)),
          h("dt", {}, "Time zone"), h("dd", {}, contact.time_zone || (company?.time_zone ? `${company.time_zone} (the company's)` : "—"))),
        h("h3", {}, "Consent"), consent ? consentBox(ctx, contact, consent) : h("p", { class: "muted" }, "Not available."),
        h("h3", {}, "Sequences"), enrolmentTable(ctx, itemsOf(enrolments), { showSequence: true }),
        h("h3", {}, "Deals"),
        deals === null ? h("p", { class: "empty" }, "Deals are not available.") : table([
          { label: "Deal", value: (d) => h("a", { href: `#/deals/${d.id}` }, d.title) },
          { label: "Status", value: (d) => d.status },
        ], itemsOf(deals), { empty: "No deals with this contact." })),
      h("section", { class: "panel", "aria-labelledby": "ct-timeline" },
        h("div", { class: "page-head" }, h("h2", { id: "ct-timeline" }, "Timeline"), followUpForms(ctx, { contact_id: contact.id, ...(contact.company_id ? { company_id: contact.company_id } : {}) })),
        events)));
  return { events: ["contact.", "deal.", "mail.", "task.", "activity."] };
}
