// Pieces several screens share: name lookups, billing-terms form, timelines, follow-up forms.

import { api, all, optional, itemsOf } from "../api.js";
import { h, field, select, date, dateTime, money, label, isoDate, addDays, formDialog, toast } from "../ui.js";
import { MINOR_UNITS } from "../currencies.js";

const cache = new Map();

// {id: name} of the companies (one fetch per screen render, cached for a few seconds).
export async function companyNames() {
  const hit = cache.get("companies");
  if (hit && Date.now() - hit.at < 5000) return hit.value;
  const rows = await all("/api/crm/companies", {}, 2000);
  const value = Object.fromEntries(rows.map((c) => [c.id, c.name]));
  cache.set("companies", { at: Date.now(), value });
  return value;
}

export async function clientNames() {
  const rows = await optional(all("/api/erp/clients", {}, 2000)) || [];
  return Object.fromEntries(rows.map((c) => [c.id, c.name]));
}

// The active users (GET /api/auth/directory, every role), to choose an owner or an assignee; cached a little.
export async function colleagues() {
  const hit = cache.get("colleagues");
  if (hit && Date.now() - hit.at < 30000) return hit.value;
  const value = (await optional(api("/api/auth/directory"))) || [];
  cache.set("colleagues", { at: Date.now(), value });
  return value;
}

export function personName(people, id) {
  if (!id) return "—";
  const person = people.find((p) => p.id === id);
  return person ? (person.full_name || person.email) : `Unknown user (${String(id).slice(0, 8)})`;
}

// A select of people; the current value stays choosable even when it is no active user (a departed owner).
export function personSelect(attrs, people, current, { none } = {}) {
  const options = people.map((p) => [p.id, p.full_name ? `${p.full_name} (${p.email})` : p.email]);
  if (current && !people.some((p) => p.id === current)) options.unshift([current, personName(people, current)]);
  if (none) options.unshift(["", none]);
  return select(attrs, options, current || "");
}

export async function pipelines() {
  return itemsOf(await api("/api/crm/pipelines"));
}

// stage id -> stage (with its pipeline)
export function stageIndex(pipelineList) {
  const index = {};
  for (const p of pipelineList) for (const st of p.stages) index[st.id] = { ...st, pipeline: p };
  return index;
}

export function pageHead(title, ...actions) {
  return h("div", { class: "page-head" }, h("h1", {}, title), h("div", { class: "actions" }, actions));
}

// --- billing terms (the win dialog) -------------------------------------------------------------------

export function billingFields(container, deal, { keep = Boolean(deal?.billing), amountInput = null } = {}) {
  const current = deal?.billing || {};
  // The amount billed: the deal's, or what its edit dialog's Amount field says now.
  const amount = () => (amountInput ? amountInput.value : deal?.amount);
  const type = select({ name: "billing_type" }, [
    ...(keep ? [["", deal?.billing ? `Keep the deal's terms (${describeBilling(deal.billing)})` : "None yet (one invoice for the full amount when won)"]] : []),
    ["fixed", "Fixed installments"],
    ["milestones", "Milestones"],
    ["retainer", "Retainer"],
    ["time_and_materials", "Time and materials"],
  ], keep ? "" : "fixed");
  const start = isoDate(addDays(new Date(), 1));
  // A retainer bills the deal's amount in equal periods (the CRM refuses count × amount ≠ the deal's amount), so the
  // amount per period follows the number of periods until someone types an amount of their own.
  const retainerCount = h("input", { name: "count", type: "number", min: 1, max: 120, value: current.count || 6 });
  const retainerAmount = h("input", { name: "retainer_amount", inputmode: "decimal", value: current.amount || perPeriod(amount(), deal?.currency, current.count || 6) });
  const retainerCheck = h("p", { class: "small muted", "aria-live": "polite" });
  let amountTyped = Boolean(current.amount);
  const checkRetainer = () => {
    if (!amountTyped) retainerAmount.value = perPeriod(amount(), deal?.currency, retainerCount.value);
    const scale = 10 ** (MINOR_UNITS[deal?.currency] ?? 2);
    const total = Number(retainerCount.value) * Math.round(Number(retainerAmount.value) * scale);
    const matches = total === Math.round(Number(amount() || 0) * scale);
    retainerCheck.textContent = `${retainerCount.value || 0} × ${retainerAmount.value || 0} = ${money(total / scale, deal?.currency)}`
      + (matches ? " (the deal's amount)" : ` — must equal the deal's ${money(amount(), deal?.currency)}`);
  };
  retainerCount.addEventListener("input", checkRetainer);
  retainerAmount.addEventListener("input", () => { amountTyped = true; checkRetainer(); });
  amountInput?.addEventListener("input", checkRetainer);
  const groups = {
    fixed: h("div", { class: "row" },
      field("Installments", { name: "installments", type: "number", min: 1, max: 120, value: current.installments || 1 }),
      field("Every", select({ name: "interval" }, [["week", "Week"], ["month", "Month"], ["quarter", "Quarter"], ["year", "Year"]], current.interval || "month")),
      field("First invoice on", { name: "start_date", type: "date", value: current.start_date || start, ...DATE_BOUNDS })),
    milestones: h("div", {},
      field("Milestones", h("textarea", { name: "milestones", rows: 4 },
        (current.milestones || [{ name: "Kickoff", percent: "30" }, { name: "Delivery", percent: "70" }])
          .map((m) => [m.name, m.percent, m.due_date || ""].join(", ").replace(/, $/, "")).join("\n")),
      "one per line: name, percent, due date (YYYY-MM-DD, optional); percents add up to 100")),
    retainer: h("div", {},
      h("div", { class: "row" },
        field("Periods", retainerCount),
        field("Amount per period", retainerAmount),
        field("Every", select({ name: "retainer_interval" }, [["week", "Week"], ["month", "Month"], ["quarter", "Quarter"], ["year", "Year"]], current.interval || "month")),
        field("Starts on", { name: "retainer_start", type: "date", value: current.start_date || start, ...DATE_BOUNDS })),
      retainerCheck),
    time_and_materials: h("div", { class: "row" },
      field("Hourly rate", { name: "hourly_rate", inputmode: "decimal", value: current.hourly_rate || "" }),
      field("Cap (optional)", { name: "cap", inputmode: "decimal", value: current.cap || "" })),
  };
  const show = () => {
    for (const [key, group] of Object.entries(groups)) {
      group.hidden = key !== type.value;
      for (const input of group.querySelectorAll("input, select, textarea")) input.disabled = key !== type.value;
    }
  };
  type.addEventListener("change", show);
  container.append(field("Billing terms", type), ...Object.values(groups));
  show();
  checkRetainer();
}

// The deal's amount split over `count` periods, in the currency's minor units (may not divide evenly: the check
// under the fields says so before the CRM does).
function perPeriod(total, currency, count) {
  const n = Number(count);
  if (!total || !n) return "";
  return (Number(total) / n).toFixed(MINOR_UNITS[currency] ?? 2);
}

// Dates a person means: the CRM refuses expected close dates outside these years too.
export const DATE_BOUNDS = { min: "2000-01-01", max: "2099-12-31" };

export function billingFromForm(data) {
  switch (data.billing_type) {
    case "fixed":
      return { type: "fixed", installments: Number(data.installments), interval: data.interval, start_date: data.start_date };
    case "milestones":
      return {
        type: "milestones",
        milestones: String(data.milestones || "").split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
          const [name, percent, due] = line.split(",").map((p) => p.trim());
          return { name, percent: (percent || "").replace("%", ""), ...(due ? { due_date: due } : {}) };
        }),
      };
    case "retainer":
      return { type: "retainer", amount: data.retainer_amount, interval: data.retainer_interval, count: Number(data.count), start_date: data.retainer_start };
    case "time_and_materials":
      return { type: "time_and_materials", hourly_rate: data.hourly_rate, ...(data.cap ? { cap: data.cap } : {}) };
    default:
      return null;
  }
}

export function describeBilling(billing) {
  if (!billing) return "One invoice for the full amount on the won date";
  switch (billing.type) {
    case "fixed": return billing.installments === 1 ? `One payment, on ${date(billing.start_date)}`
      : `${billing.installments} installments, every ${billing.interval}, from ${date(billing.start_date)}`;
    case "milestones": return `Milestones: ${billing.milestones.map((m) => `${m.name} ${m.percent}%`).join(", ")}`;
    case "retainer": return `Retainer: ${billing.amount} every ${billing.interval}, ${billing.count} times from ${date(billing.start_date)}`;
    case "time_and_materials": return `Time and materials at ${billing.hourly_rate}/h${billing.cap ? `, capped at ${billing.cap}` : ""}`;
    default: return label(billing.type);
  }
}

export function winDialog(deal) {
  return formDialog({
    title: `Win “${deal.title}”`,
    submitLabel: "Mark as won",
    build: (body) => {
      body.append(h("p", { class: "muted" }, `${money(deal.amount, deal.currency)}. The ERP turns the billing terms into the project's billing schedule.`));
      billingFields(body, deal);
    },
    submit: async (data) => {
      const billing = billingFromForm(data);
      const won = await api(`/api/crm/deals/${deal.id}/win`, { method: "POST", json: billing ? { billing } : {} });
      toast(`“${deal.title}” is won; the project is on its way.`);
      return won;
    },
  });
}

export function loseDialog(deal) {
  return formDialog({
    title: `Lose “${deal.title}”`,
    submitLabel: "Mark as lost",
    danger: true,
    build: (body) => body.append(field("Reason", h("textarea", { name: "reason", required: true, maxlength: 1000 }), "the sales team learns from it")),
    submit: async (data) => {
      const lost = await api(`/api/crm/deals/${deal.id}/lose`, { method: "POST", json: { reason: data.reason } });
      toast(`“${deal.title}” is marked lost.`);
      return lost;
    },
  });
}

// --- timeline: activities, tasks and what the ERP reported ---------------------------------------------

// The CRM's timeline of a deal or company (activities, stage changes, ERP facts) and its open follow-ups.
// Without the timeline endpoint, activities and ERP facts are read one by one.
export async function timeline(filter) {
  const subject = filter.deal_id ? `/api/crm/deals/${filter.deal_id}/timeline`
    : filter.contact_id ? `/api/crm/contacts/${filter.contact_id}/timeline` : `/api/crm/companies/${filter.company_id}/timeline`;
  const [combined, tasks] = await Promise.all([
    optional(api(subject, { query: { limit: 100 } })),
    optional(api("/api/crm/tasks", { query: { ...filter, status: "open", limit: 100 } })),
  ]);
  let entries;
  if (combined !== null) {
    entries = itemsOf(combined).map((e) => (e.type === "mail" ? mailEntry(e) : {
      cls: e.type === "erp_fact" ? "erp" : e.type === "stage_change" ? "stage" : "activity",
      when: e.occurred_at,
      title: e.type === "activity" ? `${label(e.kind)}: ${e.summary}` : e.summary,
      body: e.type === "activity" ? (e.data?.body || "") : e.type === "erp_fact" ? label(e.kind) : "",
    }));
  } else {
    const [activities, facts] = await Promise.all([
      optional(api("/api/crm/activities", { query: { ...filter, limit: 100 } })),
      optional(api("/api/crm/erp-facts", { query: { ...filter, limit: 100 } })),
    ]);
    entries = [
      ...itemsOf(activities).map((a) => ({ cls: "activity", when: a.occurred_at, title: `${label(a.kind)}: ${a.subject}`, body: a.body })),
      ...itemsOf(facts).map((f) => ({ cls: "erp", when: f.occurred_at, title: f.summary, body: label(f.kind) })),
    ].sort((a, b) => String(b.when).localeCompare(String(a.when)));
  }
  const open = itemsOf(tasks);
  return h("div", {},
    open.length ? h("div", { class: "notice", role: "group", "aria-label": "Open follow-ups" }, h("strong", {}, "Follow-ups"),
      h("ul", {}, open.map((t) => h("li", {}, `${t.title} — due ${dateTime(t.due_at)}`)))) : null,
    entries.length ? h("ol", { class: "timeline", "aria-label": "Timeline" }, entries.map((e) => h("li", { class: e.cls },
      h("div", { class: "when" }, dateTime(e.when)), h("div", {}, h("strong", {}, e.title)), e.body ? h("div", { class: "small" }, e.body) : null)))
      : h("p", { class: "empty" }, "Nothing on the timeline yet."));
}

// A mail on the timeline: sent (queued until the sender's outcome: sent, bounced, failed) or received.
function mailEntry(e) {
  const data = e.data || {};
  const inbound = e.kind === "inbound";
  const step = data.step_position ? ` (sequence step ${data.step_position})` : "";
  return {
    cls: "mail",
    when: e.occurred_at,
    title: `${inbound ? "Email received" : "Email sent"}: ${e.summary}`,
    body: inbound ? `From ${data.from}` : `To ${(data.to || []).join(", ")} · ${label(data.status)}${step}${data.error ? ` · ${data.error}` : ""}`,
  };
}

// Log an activity or add a follow-up task against a deal or company.
export function followUpForms(ctx, link) {
  if (!ctx.can("crm.activities.write")) return null;
  const logActivity = h("button", { type: "button", class: "secondary", onclick: () => formDialog({
    title: "Log an activity",
    submitLabel: "Log it",
    build: (body) => body.append(
      field("Kind", select({ name: "kind" }, [["call", "Call"], ["email", "Email"], ["meeting", "Meeting"], ["note", "Note"]], "call")),
      field("Subject", { name: "subject", required: true, maxlength: 200 }),
      field("Notes", h("textarea", { name: "body", maxlength: 5000 }))),
    submit: async (data) => {
      await api("/api/crm/activities", { method: "POST", json: { ...link, kind: data.kind, subject: data.subject, ...(data.body ? { body: data.body } : {}) } });
      toast("Activity logged.");
      ctx.refresh();
      return true;
    },
  }) }, "Log activity");
  const addTask = h("button", { type: "button", class: "secondary", onclick: () => formDialog({
    title: "Add a follow-up task",
    submitLabel: "Add task",
    build: (body) => body.append(
      field("What to do", { name: "title", required: true, maxlength: 200 }),
      field("Due", { name: "due_date", type: "date", required: true, value: isoDate(addDays(new Date(), 2)) })),
    submit: async (data) => {
      await api("/api/crm/tasks", { method: "POST", json: { ...link, title: data.title, due_at: new Date(`${data.due_date}T17:00:00`).toISOString(), assignee_id: ctx.me.id } });
      toast("Task added.");
      ctx.refresh();
      return true;
    },
  }) }, "Add follow-up");
  return h("div", { class: "actions" }, logActivity, addTask);
}
