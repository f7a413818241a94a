// One lead: what the person wrote, the explained score, and the way forward: qualify, disqualify with a reason,
// convert (the message goes onto the new records' timelines), or edit.

import { api, optional, itemsOf, ApiError } from "../api.js";
import { h, field, select, badge, formDialog, toast, act, date, dateTime, label } from "../ui.js";
import { pageHead, followUpForms, colleagues, personName, personSelect } from "./common.js";
import { convertDialog } from "./sales.js";
import { changes } from "./contacts.js";

const SOURCES = ["website", "referral", "partner", "event", "campaign", "api", "cold_outreach", "import", "other"];
const LEAD_FIELDS = ["first_name", "last_name", "email", "phone", "title", "company_name", "company_domain", "source", "owner_id", "message"];

function editLeadDialog(lead, people) {
  return formDialog({
    title: `Edit ${lead.full_name || lead.company_name || "lead"}`,
    submitLabel: "Save lead",
    build: (body) => body.append(
      h("div", { class: "row" }, field("First name", { name: "first_name", maxlength: 100, value: lead.first_name }),
        field("Last name", { name: "last_name", maxlength: 100, value: lead.last_name })),
      h("div", { class: "row" }, field("Email", { name: "email", type: "email", value: lead.email || "" }),
        field("Phone", { name: "phone", type: "tel", maxlength: 50, value: lead.phone || "" })),
      field("Job title", { name: "title", maxlength: 100, value: lead.title || "" }),
      h("div", { class: "row" }, field("Company", { name: "company_name", maxlength: 200, value: lead.company_name || "" }),
        field("Company domain", { name: "company_domain", maxlength: 253, value: lead.company_domain || "", placeholder: "example.com" })),
      h("div", { class: "row" }, field("Source", select({ name: "source" }, SOURCES.map((v) => [v, label(v)]), lead.source)),
        field("Owner", personSelect({ name: "owner_id" }, people, lead.owner_id, { none: "Nobody" }))),
      field("Message", h("textarea", { name: "message", maxlength: 5000, rows: 5 }, lead.message || ""))),
    submit: async (data) => {
      const body = changes(data, lead, LEAD_FIELDS);
      for (const name of ["first_name", "last_name"]) if (body[name] === null) body[name] = "";
      return Object.keys(body).length ? api(`/api/crm/leads/${lead.id}`, { method: "PATCH", json: body }) : lead;
    },
  });
}

function disqualifyDialog(lead) {
  return formDialog({
    title: `Disqualify ${lead.full_name || lead.company_name || "this lead"}`,
    submitLabel: "Disqualify",
    danger: true,
    build: (body) => body.append(field("Reason", h("textarea", { name: "reason", required: true, maxlength: 1000 }), "kept on the lead; the team learns from it")),
    submit: (data) => api(`/api/crm/leads/${lead.id}`, { method: "PATCH", json: { status: "disqualified", disqualified_reason: data.reason } }),
  });
}

export async function leadView(root, ctx) {
  const [id] = ctx.params;
  let lead;
  try {
    lead = await api(`/api/crm/leads/${id}`);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 422)) {
      root.append(pageHead("Lead not found"), h("p", {}, "This lead does not exist. ", h("a", { href: "#/leads" }, "Back to the leads.")));
      return { events: [] };
    }
    throw error;
  }
  const [people, activities] = await Promise.all([
    colleagues(), optional(api("/api/crm/activities", { query: { lead_id: lead.id, limit: 100 } })),
  ]);
  const writer = ctx.can("crm.leads.write");
  const errors = h("div", { "aria-live": "assertive" });
  const converted = lead.status === "converted";
  const setStatus = (status, message) => (e) => act(e.currentTarget, async () => {
    await api(`/api/crm/leads/${lead.id}`, { method: "PATCH", json: { status } });
    toast(message);
    ctx.refresh();
  }, errors);
  const actions = [];
  if (writer && !converted) {
    if (lead.status === "disqualified") {
      actions.push(h("button", { type: "button", onclick: setStatus("new", "The lead is open again.") }, "Requalify"));
    } else {
      actions.push(h("button", { type: "button", onclick: async () => {
        const result = await convertDialog(lead);
        if (result?.deal_id) ctx.navigate(`/deals/${result.deal_id}`);
        else if (result) ctx.refresh();
      } }, "Convert"));
      if (lead.status !== "qualified") actions.push(h("button", { type: "button", class: "secondary", onclick: setStatus("qualified", "Lead qualified.") }, "Qualify"));
      if (lead.status === "new") actions.push(h("button", { type: "button", class: "secondary", onclick: setStatus("contacted", "Marked as contacted.") }, "Mark contacted"));
      actions.push(h("button", { type: "button", class: "secondary danger-text", onclick: async () => { if (await disqualifyDialog(lead)) { toast("Lead disqualified."); ctx.refresh(); } } }, "Disqualify"));
    }
    actions.push(h("button", { type: "button", class: "secondary", onclick: async () => { if (await editLeadDialog(lead, people)) { toast("Lead saved."); ctx.refresh(); } } }, "Edit"));
  }
  const entries = itemsOf(activities);
  root.append(
    pageHead(lead.full_name || lead.company_name || lead.email || "Lead", ...actions),
    errors,
    h("div", { class: "grid-2" },
      h("section", { class: "panel", "aria-labelledby": "lead-facts" }, h("h2", { id: "lead-facts" }, "Lead"),
        h("dl", { class: "facts" },
          h("dt", {}, "Status"), h("dd", { id: "lead-status" }, badge(lead.status)),
          lead.disqualified_reason ? [h("dt", {}, "Why disqualified"), h("dd", { id: "lead-disqualified-reason" }, lead.disqualified_reason)] : null,
          h("dt", {}, "Email"), h("dd", {}, lead.email || "—"),
          h("dt", {}, "Phone"), h("dd", {}, lead.phone || "—"),
          h("dt", {}, "Job title"), h("dd", {}, lead.title || "—"),
          h("dt", {}, "Company"), h("dd", {}, lead.company_name || "—", lead.company_domain ? ` (${lead.company_domain})` : ""),
          h("dt", {}, "Source"), h("dd", {}, label(lead.source)),
          h("dt", {}, "Owner"), h("dd", {}, personName(people, lead.owner_id)),
          h("dt", {}, "Received"), h("dd", {}, dateTime(lead.created_at)),
          h("dt", {}, "Score"), h("dd", {}, h("strong", {}, String(lead.score)),
            h("ul", { class: "score-reasons small" }, (lead.score_reasons || []).map((r) => h("li", {}, `${r.points > 0 ? "+" : ""}${r.points}: ${r.reason}`))))),
        converted ? h("p", { class: "notice", id: "lead-converted" }, `Converted on ${date(lead.converted_at)}: `,
          lead.company_id ? h("a", { href: `#/companies/${lead.company_id}` }, "company") : null,
          lead.contact_id ? [", ", h("a", { href: `#/contacts/${lead.contact_id}` }, "contact")] : null,
          lead.deal_id ? [", ", h("a", { href: `#/deals/${lead.deal_id}` }, "deal")] : null, ".") : null),
      h("section", { class: "panel", "aria-labelledby": "lead-message" }, h("h2", { id: "lead-message" }, "Message"),
        lead.message ? h("p", { class: "message", id: "lead-message-text" }, lead.message) : h("p", { class: "empty" }, "The lead left no message."),
        h("div", { class: "page-head" }, h("h2", {}, "Activities"), converted ? null : followUpForms(ctx, { lead_id: lead.id })),
        entries.length ? h("ol", { class: "timeline", "aria-label": "Activities" }, entries.map((a) => h("li", { class: "activity" },
          h("div", { class: "when" }, dateTime(a.occurred_at)), h("div", {}, h("strong", {}, `${label(a.kind)}: ${a.subject}`)),
          a.body ? h("div", { class: "small" }, a.body) : null))) : h("p", { class: "empty" }, "No activities yet."))));
  return { events: ["lead.", "activity."] };
}
