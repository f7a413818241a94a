// Sales mail: compose (from a deal, contact or company), mail templates, sequences with their enrolments and step
// status, and the contact page (consent, mail, sequences).

import { api, all, optional, itemsOf, ApiError } from "../api.js";
import { h, field, select, dateTime, badge, formDialog, toast, act, table, label } from "../ui.js";
import { pageHead } from "./common.js";

const STEP_TONES = { sent: "good", task_created: "good", queued: "info", due: "info", scheduled: "neutral", later: "neutral",
  bounced: "bad", failed: "bad", skipped: "warn", not_run: "neutral", completed: "good", active: "info", stopped: "neutral" };

function stepBadge(status) {
  return h("span", { class: `badge ${STEP_TONES[status] || "neutral"}`, dataset: { status } }, label(status));
}

// A template's problem names its part and line (422 from the CRM): shown where the person is typing.
function templateError(error) {
  if (error instanceof ApiError && error.problem.part) {
    const where = error.problem.line ? `${label(error.problem.part)}, line ${error.problem.line}` : label(error.problem.part);
    return h("div", { class: "error", role: "alert", id: "template-error" }, h("strong", {}, `${where}: `), error.problem.message || error.message);
  }
  return null;
}

function previewBox() {
  return h("div", { class: "panel mail-preview", id: "mail-preview", hidden: true, "aria-live": "polite" });
}

function showPreview(box, rendered) {
  box.hidden = false;
  box.replaceChildren(
    h("p", {}, h("strong", {}, "Subject: "), h("span", { id: "preview-subject" }, rendered.subject)),
    h("pre", { class: "small", id: "preview-text" }, rendered.text),
    rendered.example ? h("p", { class: "muted small" }, "Rendered with example values.") : null);
}

// --- compose ---------------------------------------------------------------------------------------------

// Send a mail about a deal, contact or company (`link` names them), with a template or free text, after a preview.
export async function composeDialog(link, to = "") {
  const templates = itemsOf(await optional(api("/api/crm/mail-templates")) || []);
  const preview = previewBox();
  return formDialog({
    title: "Send an email",
    submitLabel: "Send",
    build: (body, form) => {
      const templateSelect = select({ name: "template_id", id: "compose-template" },
        [["", "Free text"], ...templates.map((t) => [t.id, t.name])], "");
      const subject = h("input", { name: "subject", maxlength: 998, id: "compose-subject" });
      const text = h("textarea", { name: "text", rows: 8, id: "compose-text" });
      const freeText = h("div", {}, field("Subject", subject), field("Message", text, "Jinja2: {{ contact.first_name }}, {{ deal.title }}, {{ owner.name }}"));
      const sync = () => {
        freeText.hidden = Boolean(templateSelect.value);
        subject.required = !templateSelect.value;
        text.required = !templateSelect.value;
      };
      templateSelect.addEventListener("change", sync);
      const previewButton = h("button", { type: "button", class: "secondary", id: "compose-preview", onclick: async () => {
        const data = Object.fromEntries(new FormData(form));
        const source = data.template_id ? { template_id: data.template_id } : { subject: data.subject, text: data.text };
        const errors = form.querySelector("[aria-live=assertive]");
        errors?.replaceChildren();
        try {
          showPreview(preview, await api("/api/crm/mail-templates/preview", { method: "POST", json: { ...source, ...link } }));
        } catch (error) {
          preview.hidden = true;
          errors?.replaceChildren(templateError(error) || h("div", { class: "error", role: "alert" }, error.message));
        }
      } }, "Preview");
      body.append(field("To", { name: "to", type: "email", value: to || "", id: "compose-to" }, "empty: the contact's address"),
        field("Template", templateSelect), freeText, h("div", { class: "actions" }, previewButton), preview);
      sync();
    },
    submit: async (data) => {
      const json = { ...link, ...(data.to ? { to: data.to } : {}) };
      if (data.template_id) json.template_id = data.template_id;
      else Object.assign(json, { subject: data.subject, text: data.text });
      try {
        const mail = await api("/api/crm/mails", { method: "POST", json });
        toast(`Email “${mail.subject}” queued to ${mail.to_addresses.join(", ")}.`);
        return mail;
      } catch (error) {
        const shown = templateError(error);
        if (shown) throw new ApiError(422, { ...error.problem, detail: shown.textContent });
        throw error;
      }
    },
  });
}

export function composeButton(ctx, link, to) {
  if (!ctx.can("crm.mail.send")) return null;
  return h("button", { type: "button", class: "secondary", id: "send-email", onclick: async () => {
    if (await composeDialog(link, to)) ctx.refresh();
  } }, "Send email");
}

// --- templates ---------------------------------------------------------------------------------------------

function templateDialog(existing) {
  const preview = previewBox();
  return formDialog({
    title: existing ? `Edit “${existing.name}”` : "New mail template",
    submitLabel: existing ? "Save" : "Create template",
    build: (body, form) => {
      body.append(
        field("Name", { name: "name", required: true, maxlength: 100, value: existing?.name || "", id: "template-name" }),
        field("Subject", { name: "subject", required: true, maxlength: 998, value: existing?.subject || "", id: "template-subject" }),
        field("Text", h("textarea", { name: "text", required: true, rows: 8, id: "template-text" }, existing?.text || ""),
          "variables: contact, company, deal, owner (e.g. {{ contact.first_name }})"),
        field("HTML (optional)", h("textarea", { name: "html", rows: 6, id: "template-html" }, existing?.html || "")),
        h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", id: "template-preview", onclick: async () => {
          const data = Object.fromEntries(new FormData(form));
          const errors = form.querySelector("[aria-live=assertive]");
          errors?.replaceChildren();
          try {
            showPreview(preview, await api("/api/crm/mail-templates/preview", { method: "POST",
              json: { subject: data.subject, text: data.text, ...(data.html ? { html: data.html } : {}) } }));
          } catch (error) {
            preview.hidden = true;
            errors?.replaceChildren(templateError(error) || h("div", { class: "error", role: "alert" }, error.message));
          }
        } }, "Preview")),
        preview);
    },
    submit: async (data) => {
      const json = { name: data.name, subject: data.subject, text: data.text, html: data.html || null };
      try {
        const saved = existing
          ? await api(`/api/crm/mail-templates/${existing.id}`, { method: "PATCH", json })
          : await api("/api/crm/mail-templates", { method: "POST", json });
        toast(`Template “${saved.name}” saved.`);
        return saved;
      } catch (error) {
        const shown = templateError(error);
        if (shown) throw new ApiError(422, { ...error.problem, detail: shown.textContent });
        throw error;
      }
    },
  });
}

export async function templatesView(root, ctx) {
  const templates = await api("/api/crm/mail-templates");
  const writer = ctx.can("crm.mail_templates.write");
  root.append(
    pageHead("Mail templates", writer ? h("button", { type: "button", id: "new-template", onclick: async () => {
      if (await templateDialog()) ctx.refresh();
    } }, "New template") : null),
    h("p", { class: "muted" }, "Jinja2 templates for mail sent by hand and by sequences. Checked when saved: a mistake is shown with its line."),
    table([
      { label: "Name", value: (t) => writer ? h("button", { type: "button", class: "link", onclick: async () => { if (await templateDialog(t)) ctx.refresh(); } }, t.name) : t.name },
      { label: "Subject", value: (t) => t.subject },
      { label: "Parts", value: (t) => (t.html ? "Text + HTML" : "Text") },
      { label: "Version", value: (t) => String(t.version), num: true },
    ], templates, { empty: "No templates yet." }));
  return { events: [] };
}

// --- sequences -----------------------------------------------------------------------------------------------

function stepRow(templates, step = {}) {
  const kind = select({ name: "kind", "aria-label": "Step kind" }, [["email", "Email"], ["task", "Task for the owner"]], step.kind || "email");
  const template = select({ name: "template_id", "aria-label": "Template" }, templates.map((t) => [t.id, t.name]), step.template_id);
  const title = h("input", { name: "task_title", "aria-label": "Task", maxlength: 200, placeholder: "Call them", value: step.task_title || "" });
  const delay = h("input", { name: "delay_days", type: "number", min: 0, max: 365, value: step.delay_days ?? 0, "aria-label": "Delay in business days" });
  const row = h("div", { class: "row step-row" }, field("Step", kind), field("Template", template), field("Task", title), field("Days after", delay),
    h("button", { type: "button", class: "secondary", "aria-label": "Remove step", onclick: () => row.remove() }, "Remove"));
  const sync = () => {
    template.closest(".field").hidden = kind.value !== "email";
    title.closest(".field").hidden = kind.value !== "task";
  };
  kind.addEventListener("change", sync);
  setTimeout(sync);
  return row;
}

function sequenceDialog(templates) {
  return formDialog({
    title: "New sequence",
    submitLabel: "Create sequence",
    build: (body) => {
      const steps = h("div", { id: "sequence-steps" }, stepRow(templates));
      body.append(
        field("Name", { name: "name", required: true, maxlength: 100, id: "sequence-name" }),
        h("div", { class: "row" },
          field("Window from (hour)", { name: "window_start_hour", type: "number", min: 0, max: 23, value: 9 }),
          field("Window to (hour)", { name: "window_end_hour", type: "number", min: 1, max: 24, value: 17 }),
          field("Business days only", select({ name: "business_days_only" }, [["true", "Yes"], ["false", "No, every day"]], "true"))),
        h("p", { class: "muted small" }, "The window is the recipient's local time (the contact's time zone, else the company's). Delays count business days (weekends and the company country's public holidays skipped)."),
        h("h3", {}, "Steps"), steps,
        h("button", { type: "button", class: "secondary", id: "add-step", onclick: () => steps.append(stepRow(templates)) }, "Add step"));
    },
    submit: async (data, form) => {
      const steps = [...form.querySelectorAll(".step-row")].map((row) => {
        const value = (name) => row.querySelector(`[name=${name}]`).value;
        return value("kind") === "email"
          ? { kind: "email", template_id: value("template_id"), delay_days: Number(value("delay_days") || 0) }
          : { kind: "task", task_title: value("task_title") || "Follow up", delay_days: Number(value("delay_days") || 0) };
      });
      const created = await api("/api/crm/sequences", { method: "POST", json: {
        name: data.name, window_start_hour: Number(data.window_start_hour), window_end_hour: Number(data.window_end_hour),
        business_days_only: data.business_days_only === "true", steps } });
      toast(`Sequence “${created.name}” created.`);
      return created;
    },
  });
}

function counts(enrolments) {
  const parts = Object.entries(enrolments || {}).map(([status, n]) => `${n} ${status}`);
  return parts.length ? parts.join(" · ") : "none";
}

export async function sequencesView(root, ctx) {
  const [sequences, templates] = await Promise.all([api("/api/crm/sequences"), api("/api/crm/mail-templates")]);
  const writer = ctx.can("crm.sequences.write");
  root.append(
    pageHead("Sequences", writer ? h("button", { type: "button", id: "new-sequence", onclick: async () => {
      if (!templates.length) { toast("Create a mail template first.", "bad"); return; }
      const created = await sequenceDialog(templates);
      if (created) ctx.navigate(`/sequences/${created.id}`);
    } }, "New sequence") : null),
    h("p", { class: "muted" }, "Ordered emails and tasks. An enrolment stops when the person replies or unsubscribes, when its deal is won or lost, or by hand."),
    table([
      { label: "Sequence", value: (sq) => h("a", { href: `#/sequences/${sq.id}` }, sq.name) },
      { label: "Steps", value: (sq) => String(sq.steps.length), num: true },
      { label: "Status", value: (sq) => badge(sq.active ? "active" : "on_hold") },
      { label: "Enrolments", value: (sq) => counts(sq.enrolments) },
    ], sequences, { empty: "No sequences yet." }));
  return { events: [] };
}

function describeStep(step, templates) {
  const when = step.delay_days ? `${step.delay_days} day${step.delay_days > 1 ? "s" : ""} later` : "at once";
  return step.kind === "email" ? `Email “${templates[step.template_id] || "template"}”, ${when}` : `Task “${step.task_title}”, ${when}`;
}

export function enrolmentTable(ctx, enrolments, { showSequence = false, names = {} } = {}) {
  return table([
    ...(showSequence ? [{ label: "Sequence", value: (e) => h("a", { href: `#/sequences/${e.sequence_id}` }, e.sequence_name) }]
      : [{ label: "Person", value: (e) => (e.contact_id ? h("a", { href: `#/contacts/${e.contact_id}` }, names[e.contact_id] || e.email) : e.email) }]),
    { label: "Status", value: (e) => h("span", {}, stepBadge(e.status), e.stop_reason ? ` ${label(e.stop_reason)}` : "") },
    { label: "Steps", value: (e) => h("ol", { class: "steps" }, e.steps.map((st) => h("li", { dataset: { position: st.position } },
      `${label(st.kind)} `, stepBadge(st.status), st.due_at && st.status !== "sent" ? h("span", { class: "small muted" }, ` ${dateTime(st.due_at)}`) : null))) },
    { label: "Waiting", value: (e) => e.waiting_reason || "—" },
    { label: "", value: (e) => (e.status === "active" && ctx.can("crm.sequences.enrol")
      ? h("button", { type: "button", class: "secondary", onclick: (ev) => act(ev.target, async () => {
        await api(`/api/crm/enrolments/${e.id}/stop`, { method: "POST" });
        toast("Enrolment stopped.");
        ctx.refresh();
      }) }, "Stop") : "") },
  ], enrolments, { empty: "Nobody is enrolled yet.", rowAttrs: (e) => ({ dataset: { enrolmentId: e.id } }) });
}

async function enrolDialog(sequence) {
  const contacts = await all("/api/crm/contacts", {}, 2000);
  return formDialog({
    title: `Enrol in “${sequence.name}”`,
    submitLabel: "Enrol",
    build: (body) => body.append(field("Contact", select({ name: "contact_id", required: true, id: "enrol-contact" },
      contacts.filter((c) => c.email).map((c) => [c.id, `${c.full_name} <${c.email}>`]).sort((a, b) => a[1].localeCompare(b[1]))))),
    submit: async (data) => {
      const enrolment = await api(`/api/crm/sequences/${sequence.id}/enrolments`, { method: "POST", json: { contact_id: data.contact_id } });
      toast("Enrolled; the first step goes out in its send window.");
      return enrolment;
    },
  });
}

export async function sequenceView(root, ctx) {
  const [id] = ctx.params;
  let sequence;
  try {
    sequence = await api(`/api/crm/sequences/${id}`);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 422)) {
      root.append(pageHead("Sequence not found"), h("p", {}, h("a", { href: "#/sequences" }, "Back to the sequences.")));
      return { events: [] };
    }
    throw error;
  }
  const [templates, enrolments] = await Promise.all([api("/api/crm/mail-templates"), api("/api/crm/enrolments", { query: { sequence_id: id, limit: 200 } })]);
  const names = Object.fromEntries(templates.map((t) => [t.id, t.name]));
  const contactNames = {};
  for (const c of await Promise.all(itemsOf(enrolments).filter((e) => e.contact_id).slice(0, 50)
    .map((e) => optional(api(`/api/crm/contacts/${e.contact_id}`))))) if (c) contactNames[c.id] = c.full_name;
  const actions = [];
  if (ctx.can("crm.sequences.enrol") && sequence.active) {
    actions.push(h("button", { type: "button", id: "enrol", onclick: async () => { if (await enrolDialog(sequence)) ctx.refresh(); } }, "Enrol a contact"));
  }
  if (ctx.can("crm.sequences.write")) {
    actions.push(h("button", { type: "button", class: "secondary", id: "pause", onclick: (ev) => act(ev.target, async () => {
      await api(`/api/crm/sequences/${id}`, { method: "PATCH", json: { active: !sequence.active } });
      ctx.refresh();
    }) }, sequence.active ? "Pause" : "Resume"));
  }
  root.append(
    pageHead(sequence.name, ...actions),
    h("div", { class: "grid-2" },
      h("section", { class: "panel", "aria-labelledby": "seq-steps" }, h("h2", { id: "seq-steps" }, "Steps"),
        h("ol", { id: "sequence-step-list" }, sequence.steps.map((st) => h("li", {}, describeStep(st, names)))),
        h("p", { class: "muted small" }, `Sends ${sequence.window_start_hour}:00–${sequence.window_end_hour}:00 in the recipient's time zone, ${sequence.business_days_only ? "on business days" : "every day"}. ${sequence.active ? "" : "Paused."}`)),
      h("section", { class: "panel", "aria-labelledby": "seq-enrolments" }, h("h2", { id: "seq-enrolments" }, "Enrolments"),
        enrolmentTable(ctx, itemsOf(enrolments), { names: contactNames }))));
  return { events: ["mail."] };
}

// --- the contact page ----------------------------------------------------------------------------------------

export function consentBox(ctx, contact, consent) {
  const facts = h("dl", { class: "facts", id: "consent" },
    h("dt", {}, "Sequence mail"), h("dd", { id: "consent-status" }, badge(consent.status === "withdrawn" ? "rejected" : consent.status === "given" ? "approved" : "pending"), ` ${label(consent.status)}`),
    h("dt", {}, "Source"), h("dd", { id: "consent-source" }, consent.source || "—"),
    h("dt", {}, "Since"), h("dd", {}, dateTime(consent.changed_at)));
  const record = ctx.can("crm.consent.write") && contact.email ? h("button", { type: "button", class: "secondary", id: "record-consent", onclick: async () => {
    const done = await formDialog({
      title: "Record consent",
      submitLabel: "Record",
      build: (body) => body.append(
        field("Consent", select({ name: "status" }, [["given", "Given"], ["withdrawn", "Withdrawn (stops their sequences)"]], "given")),
        field("Source", { name: "source", required: true, maxlength: 150, placeholder: "signed up at the fair" })),
      submit: (data) => api(`/api/crm/contacts/${contact.id}/consent`, { method: "PUT", json: data }),
    });
    if (done) ctx.refresh();
  } }, "Record consent") : null;
  return h("div", {}, facts, record);
}
