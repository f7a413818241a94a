// Setup: users (admin), pipelines and stages, automation and assignment rules, lead-capture keys with the form
// snippet for a website. Each screen shows what the caller may change; the services enforce it.

import { api, optional, ApiError } from "../api.js";
import { h, field, select, date, dateTime, badge, formDialog, confirmDialog, copyField, toast, table, act, label } from "../ui.js";
import { pageHead, pipelines, colleagues, personName, personSelect } from "./common.js";

// Member: staff who log their own time and expenses and see the projects they work on (no finance data).
const ROLES = [["admin", "Admin"], ["sales", "Sales"], ["finance", "Finance"], ["project_manager", "Project manager"], ["member", "Member"], ["viewer", "Viewer"]];

function sections(ctx) {
  return [
    { path: "/setup/users", title: "Users", text: "Invite people, change their role, deactivate them, reset a password.", action: "gateway.users" },
    { path: "/setup/pipelines", title: "Pipelines and stages", text: "Add, rename and reorder stages; set their probabilities.", action: "crm.pipelines.write" },
    { path: "/setup/automation", title: "Automation and assignment", text: "Rules that create tasks and notes, and who gets new leads.", action: "crm.automation_rules.write" },
    { path: "/setup/lead-capture", title: "Lead capture", text: "Keys and the HTML form that brings website enquiries in as leads.", action: "crm.capture_keys.write" },
  ].map((s) => ({ ...s, writable: ctx.can(s.action) }));
}

export async function setupView(root, ctx) {
  root.append(pageHead("Setup"), h("p", { class: "muted" }, "How the business runs: who works in it, how deals move, what happens automatically, where leads come from."),
    h("div", { class: "setup-links" }, sections(ctx).map((s) => h("section", { class: "panel", "aria-labelledby": `setup-${s.path.split("/").pop()}` },
      h("h2", { id: `setup-${s.path.split("/").pop()}` }, h("a", { href: `#${s.path}` }, s.title)),
      h("p", {}, s.text), s.writable ? null : h("p", { class: "small muted" }, "Read-only for your role.")))));
  return { events: [] };
}

// --- users ---------------------------------------------------------------------------------------------

function linkDialog(title, intro, link) {
  const url = `${location.origin}${link.path}`;
  return formDialog({
    title,
    submitLabel: "Done",
    build: (body) => body.append(h("p", {}, intro),
      copyField("Set-password link", url, { id: "password-link" }),
      h("p", { class: "small muted" }, `It works once, until ${dateTime(link.expires_at)}. Whoever has it can set the password: send it only to the person it is for.`)),
    submit: async () => true,
  });
}

function inviteDialog() {
  return formDialog({
    title: "Invite a user",
    submitLabel: "Create the account",
    build: (body) => body.append(
      field("Email", { name: "email", type: "email", required: true, autocomplete: "off" }),
      field("Full name", { name: "full_name", maxlength: 200 }),
      field("Role", select({ name: "role" }, ROLES, "sales")),
      h("p", { class: "small muted" }, "The account opens with a one-time link you give to the person; they choose their own password.")),
    submit: async (data) => {
      const user = await api("/api/auth/users", { method: "POST", json: { email: data.email, full_name: data.full_name, role: data.role } });
      const link = await api(`/api/auth/users/${user.id}/password-link`, { method: "POST" });
      return { user, link };
    },
  });
}

function resetDialog(user) {
  return formDialog({
    title: `Reset the password of ${user.full_name || user.email}`,
    submitLabel: "Reset",
    build: (body) => {
      const how = select({ name: "how" }, [["link", "Make a one-time link (they choose the password)"], ["set", "Type a new password now"]], "link");
      const password = field("New password", { name: "password", type: "password", autocomplete: "new-password", minlength: 8, maxlength: 200 },
        "at least 8 characters; not a common password");
      const note = h("p", { class: "small muted" });
      const show = () => {
        const typed = how.value === "set";
        password.hidden = !typed;
        password.querySelector("input").required = typed;
        note.textContent = typed ? "Every session of the user ends at once." : "Their current password keeps working until the link is used.";
      };
      how.addEventListener("change", show);
      body.append(field("How", how), password, note);
      show();
    },
    submit: async (data) => {
      if (data.how === "set") {
        await api(`/api/auth/users/${user.id}/password`, { method: "POST", json: { password: data.password } });
        toast(`New password set for ${user.email}; their sessions have ended.`);
        return { done: true };
      }
      return { link: await api(`/api/auth/users/${user.id}/password-link`, { method: "POST" }) };
    },
  });
}

export async function usersView(root, ctx) {
  root.append(pageHead("Users", ctx.can("gateway.users") ? h("button", { type: "button", onclick: async () => {
    const made = await inviteDialog();
    if (!made) return;
    await linkDialog(`${made.user.email} is invited`, "Give them this link to choose their password and log in.", made.link);
    ctx.refresh();
  } }, "Invite user") : null));
  if (!ctx.can("gateway.users")) {
    root.append(h("p", { class: "notice" }, "Only admins manage users."));
    return { events: [] };
  }
  const q = ctx.query.get("q") || "";
  const page = await api("/api/auth/users", { query: { q, limit: 200 } });
  const errors = h("div", { "aria-live": "assertive" });
  const search = h("input", { type: "search", name: "q", value: q });
  const form = h("form", { class: "filters", role: "search" }, field("Search name or email", search), h("button", { type: "submit" }, "Search"));
  form.addEventListener("submit", (e) => { e.preventDefault(); ctx.navigate(`/setup/users?q=${encodeURIComponent(search.value)}`); });
  const patch = (user, body, message) => act(null, async () => {
    await api(`/api/auth/users/${user.id}`, { method: "PATCH", json: body });
    toast(message);
    ctx.refresh();
  }, errors);
  root.append(form, errors, table([
    { label: "Name", value: (u) => h("div", {}, h("strong", {}, u.full_name || "—"), h("div", { class: "small muted" }, u.email)) },
    { label: "Role", value: (u) => {
      const role = select({ "aria-label": `Role of ${u.email}` }, ROLES, u.role);
      role.addEventListener("change", () => patch(u, { role: role.value }, `${u.email} is now ${label(role.value)}; their sessions have ended.`));
      return role;
    } },
    { label: "Status", value: (u) => badge(u.active ? "active" : "deactivated") },
    { label: "Since", value: (u) => date(u.created_at) },
    { label: "", value: (u) => h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", "aria-label": `Reset password of ${u.email}`, onclick: async () => {
        const result = await resetDialog(u);
        if (result?.link) await linkDialog(`Password link for ${u.email}`, "Give them this link to choose a new password.", result.link);
      } }, "Reset password"),
      u.active
        ? h("button", { type: "button", class: "secondary danger-text", "aria-label": `Deactivate ${u.email}`, onclick: async () => {
          if (await confirmDialog(`Deactivate ${u.email}?`, "Deactivate")) patch(u, { active: false }, `${u.email} is deactivated; their sessions have ended.`);
        } }, "Deactivate")
        : h("button", { type: "button", class: "secondary", "aria-label": `Activate ${u.email}`, onclick: () => patch(u, { active: true }, `${u.email} is active again.`) }, "Activate")) },
  ], page.items, { empty: q ? "No user matches." : "No users yet." }));
  return { events: [] };
}

// --- pipelines ------------------------------------------------------------------------------------------

function stageDialog(title, stage) {
  return formDialog({
    title,
    submitLabel: stage ? "Save stage" : "Add stage",
    build: (body) => body.append(h("div", { class: "row" },
      field("Stage name", { name: "name", required: true, maxlength: 100, value: stage?.name || "" }),
      field("Probability (%)", { name: "probability", type: "number", required: true, min: 0, max: 100, step: "0.01", value: stage ? Number(stage.probability) : 50 }))),
    submit: async (data) => data,
  });
}

function newPipelineDialog() {
  return formDialog({
    title: "New pipeline",
    submitLabel: "Create pipeline",
    build: (body) => body.append(
      field("Name", { name: "name", required: true, maxlength: 100 }),
      field("Open stages", h("textarea", { name: "stages", rows: 5, required: true }, "Qualified, 20\nProposal, 50\nNegotiation, 80"),
        "one per line: name, probability %; Won (100 %) and Lost (0 %) are added at the end"),
      h("div", { class: "field" }, h("input", { type: "checkbox", name: "is_default", id: "pipeline-default" }), h("label", { for: "pipeline-default", class: "inline" }, "Make it the default pipeline"))),
    submit: async (data) => {
      const open = String(data.stages).split("\n").map((l) => l.trim()).filter(Boolean).map((line) => {
        const [name, probability] = line.split(",").map((p) => p.trim());
        return { name, probability: (probability || "0").replace("%", ""), kind: "open" };
      });
      return api("/api/crm/pipelines", { method: "POST", json: {
        name: data.name, is_default: Boolean(data.is_default),
        stages: [...open, { name: "Won", probability: "100", kind: "won" }, { name: "Lost", probability: "0", kind: "lost" }],
      } });
    },
  });
}

function pipelinePanel(pipeline, ctx, errors) {
  const writer = ctx.can("crm.pipelines.write");
  const open = pipeline.stages.filter((s) => s.kind === "open");
  const change = (path, method, json, message) => act(null, async () => {
    await api(`/api/crm/pipelines/${pipeline.id}${path}`, { method, json });
    toast(message);
    ctx.refresh();
  }, errors);
  const headingId = `pl-${pipeline.id}`;
  return h("section", { class: "panel", "aria-labelledby": headingId },
    h("div", { class: "page-head" }, h("h2", { id: headingId }, pipeline.name, " ", pipeline.is_default ? h("span", { class: "badge info" }, "Default") : null),
      writer ? h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", "aria-label": `Rename the pipeline ${pipeline.name}`, onclick: async () => {
          const renamed = await formDialog({ title: `Rename ${pipeline.name}`, submitLabel: "Rename",
            build: (body) => body.append(field("Name", { name: "name", required: true, maxlength: 100, value: pipeline.name })),
            submit: (data) => api(`/api/crm/pipelines/${pipeline.id}`, { method: "PATCH", json: { name: data.name } }) });
          if (renamed) { toast("Pipeline renamed."); ctx.refresh(); }
        } }, "Rename"),
        pipeline.is_default ? null : h("button", { type: "button", class: "secondary", "aria-label": `Make default: ${pipeline.name}`,
          onclick: () => change("", "PATCH", { is_default: true }, `${pipeline.name} is the default pipeline.`) }, "Make default"),
        h("button", { type: "button", "aria-label": `Add stage to ${pipeline.name}`, onclick: async () => {
          const data = await stageDialog(`Add a stage to ${pipeline.name}`);
          if (data) change("/stages", "POST", { name: data.name, probability: String(data.probability) }, `Stage ${data.name} added.`);
        } }, "Add stage")) : null),
    table([
      { label: "#", value: (s) => (s.kind === "open" ? String(open.indexOf(s) + 1) : "—"), num: true },
      { label: "Stage", value: (s) => s.name },
      { label: "Probability", value: (s) => `${Number(s.probability)}%`, num: true },
      { label: "Kind", value: (s) => label(s.kind) },
      { label: "", value: (s) => (writer && s.kind === "open" ? h("div", { class: "stage-actions" },
        h("button", { type: "button", class: "secondary", "aria-label": `Edit stage ${s.name}`, onclick: async () => {
          const data = await stageDialog(`Edit stage ${s.name}`, s);
          if (data) change(`/stages/${s.id}`, "PATCH", { name: data.name, probability: String(data.probability) }, `Stage ${data.name} saved.`);
        } }, "Edit"),
        h("button", { type: "button", class: "secondary", "aria-label": `Move ${s.name} up`, disabled: open.indexOf(s) === 0,
          onclick: () => change(`/stages/${s.id}`, "PATCH", { position: open.indexOf(s) }, `${s.name} moved up.`) }, "Up"),
        h("button", { type: "button", class: "secondary", "aria-label": `Move ${s.name} down`, disabled: open.indexOf(s) === open.length - 1,
          onclick: () => change(`/stages/${s.id}`, "PATCH", { position: open.indexOf(s) + 2 }, `${s.name} moved down.`) }, "Down"),
        h("button", { type: "button", class: "secondary danger-text", "aria-label": `Remove stage ${s.name}`, onclick: async () => {
          if (await confirmDialog(`Remove the stage ${s.name}?`, "Remove stage")) change(`/stages/${s.id}`, "DELETE", undefined, `Stage ${s.name} removed.`);
        } }, "Remove")) : "") },
    ], pipeline.stages, { caption: `Stages of ${pipeline.name}` }));
}

export async function pipelinesSetupView(root, ctx) {
  const list = await pipelines();
  const errors = h("div", { "aria-live": "assertive" });
  root.append(pageHead("Pipelines and stages", ctx.can("crm.pipelines.write") ? h("button", { type: "button", onclick: async () => {
    if (await newPipelineDialog()) { toast("Pipeline created."); ctx.refresh(); }
  } }, "New pipeline") : null),
  h("p", { class: "muted" }, "Open stages in order, then Won and Lost. A stage's probability weighs its deals in the forecast. A stage with open deals cannot be removed."),
  errors, list.map((p) => pipelinePanel(p, ctx, errors)));
  return { events: [] };
}

// --- automation and assignment rules ----------------------------------------------------------------------

const TRIGGERS = [["stage_entered", "A deal enters a stage"], ["deal_idle", "A deal has been idle for some days"], ["deal_won", "A deal is won"], ["lead_created", "A lead comes in"]];
const ACTIONS = [["create_task", "Create a task"], ["log_note", "Log a note"], ["assign_owner", "Assign an owner"], ["set_field", "Set a field"]];
const SOURCES = ["website", "referral", "partner", "event", "campaign", "api", "cold_outreach", "import", "other"];

function describeTrigger(rule, stages) {
  switch (rule.trigger) {
    case "stage_entered": return `A deal enters ${stages[rule.stage_id]?.name || "a stage"}`;
    case "deal_idle": return `A deal is idle for ${rule.idle_days} days`;
    case "deal_won": return "A deal is won";
    case "lead_created": return "A lead comes in";
    default: return label(rule.trigger);
  }
}

function describeAction(action, people) {
  switch (action.type) {
    case "create_task": return `Task “${action.title}”, due in ${action.due_in_hours} h, for ${action.assignee === "owner" ? "the owner" : personName(people, action.assignee)}`;
    case "log_note": return `Note “${action.subject}”`;
    case "assign_owner": return `Owner: ${personName(people, action.owner_id)}`;
    case "set_field": return `${label(action.field)} := ${action.value}`;
    default: return label(action.type);
  }
}

function ruleDialog(stageOptions, people) {
  return formDialog({
    title: "New automation rule",
    submitLabel: "Create rule",
    build: (body) => {
      const trigger = select({ name: "trigger" }, TRIGGERS, "stage_entered");
      const kind = select({ name: "action" }, ACTIONS, "create_task");
      const stage = field("Stage", select({ name: "stage_id" }, stageOptions));
      const idle = field("Idle days", { name: "idle_days", type: "number", min: 1, max: 3650, value: 14 });
      const groups = {
        create_task: h("div", {}, field("Task title", { name: "task_title", maxlength: 200, value: "Follow up on {title}" }, "{title} is the deal or lead"),
          h("div", { class: "row" }, field("Due in hours", { name: "due_in_hours", type: "number", min: 0, max: 8784, value: 24 }),
            field("For", personSelect({ name: "assignee" }, people, "", { none: "The record's owner" })))),
        log_note: h("div", {}, field("Note subject", { name: "note_subject", maxlength: 200, value: "{title}: automatic note" }),
          field("Note text", h("textarea", { name: "note_body", maxlength: 5000 }))),
        assign_owner: field("New owner", personSelect({ name: "owner_id" }, people, people[0]?.id)),
        set_field: h("div", { class: "row" }, field("Field", select({ name: "set_field" }, [["title", "Deal title"], ["expected_close_date", "Deal expected close (YYYY-MM-DD)"], ["status", "Lead status"]], "title")),
          field("Value", { name: "set_value", maxlength: 200 })),
      };
      const show = () => {
        stage.hidden = trigger.value !== "stage_entered";
        idle.hidden = trigger.value !== "deal_idle";
        for (const [key, group] of Object.entries(groups)) {
          group.hidden = key !== kind.value;
          for (const input of group.querySelectorAll("input, select, textarea")) input.disabled = key !== kind.value;
        }
        stage.querySelector("select").disabled = stage.hidden;
        idle.querySelector("input").disabled = idle.hidden;
      };
      trigger.addEventListener("change", show);
      kind.addEventListener("change", show);
      body.append(field("Name", { name: "name", required: true, maxlength: 100 }), field("When", trigger), stage, idle,
        field("Then", kind), ...Object.values(groups), h("p", { class: "small muted" }, "A rule fires at most once per record and day."));
      show();
    },
    submit: async (data) => {
      const action = {
        create_task: () => ({ type: "create_task", title: data.task_title, due_in_hours: Number(data.due_in_hours), assignee: data.assignee || "owner" }),
        log_note: () => ({ type: "log_note", subject: data.note_subject, ...(data.note_body ? { body: data.note_body } : {}) }),
        assign_owner: () => ({ type: "assign_owner", owner_id: data.owner_id }),
        set_field: () => ({ type: "set_field", field: data.set_field, value: data.set_value }),
      }[data.action]();
      return api("/api/crm/automation-rules", { method: "POST", json: {
        name: data.name, trigger: data.trigger, actions: [action],
        ...(data.trigger === "stage_entered" ? { stage_id: data.stage_id } : {}),
        ...(data.trigger === "deal_idle" ? { idle_days: Number(data.idle_days) } : {}),
      } });
    },
  });
}

function assignmentDialog(people) {
  return formDialog({
    title: "New assignment rule",
    submitLabel: "Create rule",
    build: (body) => {
      const strategy = select({ name: "strategy" }, [["round_robin", "Every lead, in turn"], ["by_source", "Leads from one source, in turn"]], "round_robin");
      const source = field("Source", select({ name: "source" }, SOURCES.map((v) => [v, label(v)]), "website"));
      const owners = h("fieldset", { class: "field" }, h("legend", {}, "Hand leads to"),
        people.map((p, i) => h("div", {}, h("input", { type: "checkbox", name: `owner_${i}`, value: p.id, id: `owner-${i}` }),
          h("label", { for: `owner-${i}`, class: "inline" }, p.full_name || p.email, " ", h("span", { class: "muted small" }, label(p.role))))));
      const show = () => { source.hidden = strategy.value !== "by_source"; source.querySelector("select").disabled = source.hidden; };
      strategy.addEventListener("change", show);
      body.append(field("Name", { name: "name", required: true, maxlength: 100 }), field("Which leads", strategy), source, owners,
        field("Order", { name: "position", type: "number", min: 0, max: 10000, value: 100 }, "rules are tried from the lowest"));
      show();
    },
    submit: async (data) => {
      const ownerIds = Object.entries(data).filter(([k]) => k.startsWith("owner_")).map(([, v]) => v);
      if (!ownerIds.length) throw new ApiError(422, { title: "Nobody to hand leads to", detail: "Tick at least one person." });
      return api("/api/crm/assignment-rules", { method: "POST", json: {
        name: data.name, strategy: data.strategy, owner_ids: ownerIds, position: Number(data.position),
        ...(data.strategy === "by_source" ? { source: data.source } : {}),
      } });
    },
  });
}

export async function automationSetupView(root, ctx) {
  const [rules, assignment, pipelineList, people] = await Promise.all([
    optional(api("/api/crm/automation-rules", { query: { limit: 200 } })), optional(api("/api/crm/assignment-rules")),
    pipelines(), colleagues(),
  ]);
  const stages = {};
  const stageOptions = [];
  for (const p of pipelineList) for (const s of p.stages) { stages[s.id] = s; stageOptions.push([s.id, `${p.name}: ${s.name}`]); }
  const errors = h("div", { "aria-live": "assertive" });
  const ruleRows = Array.isArray(rules) ? rules : (rules?.items || []);
  const writer = ctx.can("crm.automation_rules.write");
  const assigner = ctx.can("crm.assignment_rules.write");
  root.append(pageHead("Automation and assignment"), errors,
    h("section", { class: "panel", "aria-labelledby": "automation-rules" },
      h("div", { class: "page-head" }, h("h2", { id: "automation-rules" }, "Automation rules"),
        writer ? h("button", { type: "button", onclick: async () => { if (await ruleDialog(stageOptions, people)) { toast("Rule created."); ctx.refresh(); } } }, "New automation rule") : null),
      table([
        { label: "Rule", value: (r) => h("strong", {}, r.name) },
        { label: "When", value: (r) => describeTrigger(r, stages) },
        { label: "Then", value: (r) => r.actions.map((a) => describeAction(a, people)).join("; ") },
        { label: "Status", value: (r) => badge(r.active ? "active" : "paused") },
        { label: "", value: (r) => (writer ? h("div", { class: "actions" },
          h("button", { type: "button", class: "secondary", "aria-label": `${r.active ? "Pause" : "Resume"} the rule ${r.name}`, onclick: (e) => act(e.currentTarget, async () => {
            await api(`/api/crm/automation-rules/${r.id}`, { method: "PATCH", json: { active: !r.active } });
            toast(`Rule ${r.active ? "paused" : "resumed"}.`);
            ctx.refresh();
          }, errors) }, r.active ? "Pause" : "Resume"),
          h("button", { type: "button", class: "secondary danger-text", "aria-label": `Delete the rule ${r.name}`, onclick: async () => {
            if (!(await confirmDialog(`Delete the rule ${r.name}?`, "Delete rule"))) return;
            await act(null, async () => { await api(`/api/crm/automation-rules/${r.id}`, { method: "DELETE" }); toast("Rule deleted."); ctx.refresh(); }, errors);
          } }, "Delete")) : "") },
      ], ruleRows, { empty: "No automation rules yet." })),
    h("section", { class: "panel", "aria-labelledby": "assignment-rules" },
      h("div", { class: "page-head" }, h("h2", { id: "assignment-rules" }, "Lead assignment"),
        assigner ? h("button", { type: "button", onclick: async () => { if (await assignmentDialog(people)) { toast("Assignment rule created."); ctx.refresh(); } } }, "New assignment rule") : null),
      h("p", { class: "muted small" }, "A new lead without an owner goes to the people of the first matching rule, in turn."),
      table([
        { label: "Order", value: (r) => String(r.position), num: true },
        { label: "Rule", value: (r) => h("strong", {}, r.name) },
        { label: "Leads", value: (r) => (r.strategy === "by_source" ? `From ${label(r.source)}` : "Every lead") },
        { label: "Handed to", value: (r) => r.owner_ids.map((id) => personName(people, id)).join(", ") },
        { label: "", value: (r) => (assigner ? h("button", { type: "button", class: "secondary danger-text", "aria-label": `Delete the assignment rule ${r.name}`, onclick: async () => {
          if (!(await confirmDialog(`Delete the assignment rule ${r.name}?`, "Delete rule"))) return;
          await act(null, async () => { await api(`/api/crm/assignment-rules/${r.id}`, { method: "DELETE" }); toast("Assignment rule deleted."); ctx.refresh(); }, errors);
        } }, "Delete") : "") },
      ], assignment || [], { empty: "No assignment rules: new leads stay unassigned unless someone picks them up." })));
  return { events: [] };
}

// --- lead capture ------------------------------------------------------------------------------------------

// The HTML a website pastes: a plain form posting to the public endpoint. The script gives each filled-in form a
// random submission id, so a double click or a resent form makes one lead; without script the form still works.
export function formSnippet(key) {
  const action = `${location.origin}/api/crm/lead-capture`;
  return `<form method="post" action="${action}">
  <input type="hidden" name="capture_key" value="${key}">
  <input type="hidden" name="submission_id" class="throughline-submission-id">
  <p><label>First name <input name="first_name" autocomplete="given-name"></label></p>
  <p><label>Last name <input name="last_name" autocomplete="family-name"></label></p>
  <p><label>Email <input type="email" name="email" required autocomplete="email"></label></p>
  <p><label>Phone <input type="tel" name="phone" autocomplete="tel"></label></p>
  <p><label>Company <input name="company_name" autocomplete="organization"></label></p>
  <p><label>Message <textarea name="message" rows="4"></textarea></label></p>
  <p><button type="submit">Send</button></p>
</form>
<script>
  for (const input of document.querySelectorAll(".throughline-submission-id")) {
    input.value = self.crypto && crypto.randomUUID ? crypto.randomUUID()
      : Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
</script>`;
}

function keyFields(body, key) {
  body.append(
    field("Name", { name: "name", required: true, maxlength: 100, value: key?.name || "" }, "where the form lives, e.g. Website contact form"),
    field("Allowed origins", h("textarea", { name: "allowed_origins", rows: 3 }, (key?.allowed_origins || []).join("\n")),
      "one per line, e.g. https://www.example.com: pages there may post with this key"),
    field("Thank-you page (optional)", { name: "thank_you_url", type: "url", maxlength: 2000, value: key?.thank_you_url || "" },
      "where people land after sending the form; default: a short thank-you page"));
}

function keyBody(data) {
  return {
    name: data.name,
    allowed_origins: String(data.allowed_origins || "").split(/\s+/).map((o) => o.trim().replace(/\/+$/, "")).filter(Boolean),
    thank_you_url: data.thank_you_url || null,
  };
}

export async function leadCaptureView(root, ctx) {
  const keys = (await optional(api("/api/crm/capture-keys"))) || [];
  const writer = ctx.can("crm.capture_keys.write");
  const errors = h("div", { "aria-live": "assertive" });
  root.append(pageHead("Lead capture", writer ? h("button", { type: "button", onclick: async () => {
    const made = await formDialog({ title: "New capture key", submitLabel: "Create key", build: (body) => keyFields(body),
      submit: (data) => api("/api/crm/capture-keys", { method: "POST", json: keyBody(data) }) });
    if (!made) return;
    await formDialog({
      title: `Form for ${made.name}`,
      submitLabel: "Done",
      build: (body) => body.append(
        h("p", {}, "Paste this form into your website. The key is shown only now: it can do nothing but send leads, and only from the allowed origins."),
        copyField("Capture key", made.key, { id: "capture-key" }),
        copyField("HTML form", formSnippet(made.key), { multiline: true, id: "capture-snippet" })),
      submit: async () => true,
    });
    ctx.refresh();
  } }, "New capture key") : null),
  h("p", { class: "muted" }, "A website's enquiry form sends leads straight into the Leads inbox. Each key names the web pages (origins) allowed to use it; revoke a key to stop its form."),
  errors,
  table([
    { label: "Key", value: (k) => h("div", {}, h("strong", {}, k.name), h("div", { class: "small muted code" }, `${k.prefix}…`)) },
    { label: "Allowed origins", value: (k) => (k.allowed_origins.length ? k.allowed_origins.join(", ") : "None (servers only)") },
    { label: "Thank-you page", value: (k) => k.thank_you_url || "Default" },
    { label: "Status", value: (k) => (k.revoked_at ? badge("revoked") : badge("active")) },
    { label: "Created", value: (k) => date(k.created_at) },
    { label: "", value: (k) => (writer && !k.revoked_at ? h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", "aria-label": `Edit the capture key ${k.name}`, onclick: async () => {
        const saved = await formDialog({ title: `Edit ${k.name}`, submitLabel: "Save", build: (body) => keyFields(body, k),
          submit: (data) => api(`/api/crm/capture-keys/${k.id}`, { method: "PATCH", json: keyBody(data) }) });
        if (saved) { toast("Capture key saved."); ctx.refresh(); }
      } }, "Edit"),
      h("button", { type: "button", class: "secondary danger-text", "aria-label": `Revoke the capture key ${k.name}`, onclick: async () => {
        if (!(await confirmDialog(`Revoke ${k.name}? Its form stops working at once.`, "Revoke key"))) return;
        await act(null, async () => { await api(`/api/crm/capture-keys/${k.id}`, { method: "DELETE" }); toast("Capture key revoked."); ctx.refresh(); }, errors);
      } }, "Revoke")) : "") },
  ], keys, { empty: "No capture keys yet." }));
  return { events: ["lead."] };
}
