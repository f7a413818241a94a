// Timesheet: a person's week as a grid (project x day, notes, billable), saved whole; the timer; copy last week;
// submit. Approvals: the submitted weeks a project manager approves or returns with a comment.

import { api, all, optional, itemsOf } from "../api.js";
import { h, field, select, date, dateTime, badge, formDialog, toast, table, act, unavailable } from "../ui.js";
import { pageHead, colleagues, personName } from "./common.js";

const DAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

// The ISO week ("2026-W49") a date is in, and the week n weeks from a week.
export function isoWeek(d = new Date()) {
  const day = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday); // the week's Thursday decides its year
  const yearStart = new Date(Date.UTC(day.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((day - yearStart) / 86400000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

function weekFrom(weekStart, weeks) {
  const d = new Date(`${weekStart}T00:00:00`);
  d.setDate(d.getDate() + 7 * weeks);
  return isoWeek(d);
}

const hours = (value) => Number(value || 0).toFixed(2);
const dayLabel = (day, index) => `${DAY_NAMES[index]} ${date(day).replace(/ \d{4}$/, "")}`;

function timerPanel(week, projects, person, ctx, errors) {
  const timer = week.timer;
  const base = `/api/erp/timesheets/${encodeURIComponent(person)}/timer`;
  if (timer) {
    const project = projects.find((p) => p.id === timer.project_id);
    return h("section", { class: "panel timer", "aria-labelledby": "ts-timer" }, h("h2", { id: "ts-timer" }, "Timer"),
      h("p", { id: "timer-state" }, `Running on ${project ? project.name : "a project"} since ${dateTime(timer.started_at)}`,
        timer.note ? ` · ${timer.note}` : ""),
      h("div", { class: "actions" },
        h("button", { type: "button", onclick: (e) => act(e.currentTarget, async () => {
          const entry = await api(`${base}/stop`, { method: "POST" });
          toast(`${hours(entry.hours)} h booked.`);
          ctx.refresh();
        }, errors) }, "Stop timer"),
        h("button", { type: "button", class: "secondary", onclick: (e) => act(e.currentTarget, async () => {
          await api(base, { method: "DELETE" });
          toast("Timer discarded.");
          ctx.refresh();
        }, errors) }, "Discard")));
  }
  const projectSelect = select({ name: "project_id", id: "timer-project" }, projects.map((p) => [p.id, p.name]), "");
  const note = h("input", { name: "note", id: "timer-note", maxlength: 2000 });
  return h("section", { class: "panel timer", "aria-labelledby": "ts-timer" }, h("h2", { id: "ts-timer" }, "Timer"),
    projects.length ? h("div", { class: "row" }, field("Project", projectSelect), field("Note", note),
      h("div", { class: "field" }, h("button", { type: "button", onclick: (e) => act(e.currentTarget, async () => {
        await api(base, { method: "POST", json: { project_id: projectSelect.value, note: note.value.trim() || null } });
        toast("Timer started.");
        ctx.refresh();
      }, errors) }, "Start timer"))) : h("p", { class: "muted" }, "No active project to time."));
}

// The grid's rows as the editor keeps them: {project_id, project_name, billable, hours[7], notes[7], billed[7]}.
function rowsOf(week) {
  return week.rows.map((r) => ({
    project_id: r.project_id, project_name: r.project_name, billable: r.billable,
    hours: r.cells.map((c) => (c.entry_ids.length ? hours(c.hours) : "")),
    notes: r.cells.map((c) => c.note || ""), billed: r.cells.map((c) => c.billed),
  }));
}

function gridTable(week, rows, locked, onChange) {
  const totals = h("tfoot");
  const renderTotals = () => {
    const perDay = week.days.map((_, i) => rows.reduce((sum, r) => sum + Number(r.hours[i] || 0), 0));
    totals.replaceChildren(h("tr", {}, h("th", { scope: "row" }, "Total"), h("td", { "data-label": "" }, ""),
      perDay.map((t, i) => h("td", { class: "num", "data-label": dayLabel(week.days[i], i) }, hours(t))),
      h("td", { class: "num", "data-label": "Week", id: "week-total" }, hours(perDay.reduce((a, b) => a + b, 0)))));
  };
  const body = h("tbody", {}, rows.map((row, r) => {
    const rowTotal = h("td", { class: "num", "data-label": "Week" }, hours(row.hours.reduce((a, b) => a + Number(b || 0), 0)));
    const notes = h("details", { class: "cell-notes" }, h("summary", {}, "Notes"),
      week.days.map((day, i) => field(`Note for ${dayLabel(day, i)}`, { value: row.notes[i], maxlength: 2000,
        disabled: locked || row.billed[i], oninput: (e) => { row.notes[i] = e.target.value; onChange(); } })));
    const billable = h("input", { type: "checkbox", checked: row.billable, disabled: locked || row.billed.some(Boolean),
      "aria-label": `${row.project_name} is billable`, onchange: (e) => { row.billable = e.target.checked; onChange(); } });
    return h("tr", { dataset: { row: String(r) } },
      h("th", { scope: "row" }, row.project_name, notes),
      h("td", { "data-label": "Billable" }, billable),
      week.days.map((day, i) => h("td", { class: "num", "data-label": dayLabel(day, i) },
        h("input", { class: "hours", inputmode: "decimal", size: 5, value: row.hours[i], pattern: "^\\d{0,2}(\\.\\d{1,2})?$",
          disabled: locked || row.billed[i],
          "aria-label": `Hours on ${dayLabel(day, i)} for ${row.project_name}${row.billed[i] ? " (billed)" : ""}`,
          oninput: (e) => {
            row.hours[i] = e.target.value.trim();
            rowTotal.textContent = hours(row.hours.reduce((a, b) => a + Number(b || 0), 0));
            renderTotals();
            onChange();
          } }),
        row.billed[i] ? h("span", { class: "small muted billed" }, "billed") : null)),
      rowTotal);
  }));
  renderTotals();
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": `Timesheet ${week.week}` },
    h("table", { class: "responsive timesheet" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Project"), h("th", { scope: "col" }, "Billable"),
        week.days.map((day, i) => h("th", { scope: "col", class: "num" }, dayLabel(day, i))),
        h("th", { scope: "col", class: "num" }, "Week"))),
      body, totals));
}

function weekBody(week, rows) {
  return { rows: rows.map((r) => ({ project_id: r.project_id, billable: r.billable,
    cells: week.days.map((day, i) => ({ work_date: day, hours: r.hours[i], note: r.notes[i].trim() || null }))
      .filter((c) => c.hours !== "" && Number(c.hours) !== 0) })) };
}

export async function timesheetView(root, ctx) {
  const person = ctx.query.get("person") || ctx.me.id;
  const weekName = ctx.query.get("week") || isoWeek();
  const path = `/api/erp/timesheets/${encodeURIComponent(person)}/${weekName}`;
  const week = await optional(api(path));
  if (week === null) { root.append(pageHead("Timesheet"), unavailable("The timesheet")); return {}; }
  const projects = (await optional(all("/api/erp/projects", { status: "active" }, 1000))) || [];
  const own = person === ctx.me.id;
  const link = (w) => `/timesheet?week=${w}${own ? "" : `&person=${encodeURIComponent(person)}`}`;
  const errors = h("div", { "aria-live": "assertive" });
  const rows = rowsOf(week);
  let dirty = false;
  const saveButton = h("button", { type: "submit", id: "save-week" }, "Save week");
  const grid = h("div");
  const draw = () => grid.replaceChildren(rows.length ? gridTable(week, rows, week.locked, () => { dirty = true; })
    : h("p", { class: "empty" }, week.locked ? "No time in this week." : "No time yet: add a project row, or copy last week."));
  draw();

  const save = async () => {
    const saved = await api(path, { method: "PUT", json: weekBody(week, rows) });
    dirty = false;
    return saved;
  };
  const form = h("form", { class: "panel", "aria-labelledby": "ts-grid", novalidate: true },
    h("h2", { id: "ts-grid" }, `Week ${week.week}`), grid, errors);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(saveButton, async () => { await save(); toast("Week saved."); ctx.refresh(); }, errors);
  });

  if (!week.locked) {
    const addProject = select({ name: "add_project", id: "add-project" }, projects.map((p) => [p.id, p.name]), "");
    const addBillable = h("input", { type: "checkbox", id: "add-billable", checked: true });
    form.append(h("div", { class: "row add-row" }, field("Project", addProject),
      h("div", { class: "field" }, addBillable, h("label", { for: "add-billable", class: "inline" }, "Billable")),
      h("div", { class: "field" }, h("button", { type: "button", class: "secondary", disabled: !projects.length, onclick: () => {
        const project = projects.find((p) => p.id === addProject.value);
        if (!project) return;
        if (rows.some((r) => r.project_id === project.id && r.billable === addBillable.checked)) { toast("That row is in the week already."); return; }
        rows.push({ project_id: project.id, project_name: project.name, billable: addBillable.checked,
          hours: week.days.map(() => ""), notes: week.days.map(() => ""), billed: week.days.map(() => false) });
        dirty = true;
        draw();
      } }, "Add row"))),
    h("div", { class: "actions" }, saveButton,
      h("button", { type: "button", class: "secondary", id: "copy-last-week", onclick: (e) => act(e.currentTarget, async () => {
        await api(`${path}/copy-last-week`, { method: "POST" });
        toast("Last week copied.");
        ctx.refresh();
      }, errors) }, "Copy last week"),
      h("button", { type: "button", class: "secondary", id: "submit-week", onclick: (e) => act(e.currentTarget, async () => {
        if (dirty) await save();
        await api(`${path}/submit`, { method: "POST" });
        toast("Week submitted for approval.");
        ctx.refresh();
      }, errors) }, "Submit week")));
  }

  const billedHours = week.rows.reduce((sum, r) => sum + r.cells.filter((c) => c.billed).reduce((s, c) => s + Number(c.hours), 0), 0);
  root.append(
    pageHead(own ? "Timesheet" : `Timesheet of ${personName(await colleagues(), person)}`),
    h("nav", { class: "week-nav", "aria-label": "Weeks" },
      h("a", { href: `#${link(weekFrom(week.week_start, -1))}` }, "← Previous week"),
      h("strong", { id: "week-name" }, `${week.week} · ${date(week.days[0])} – ${date(week.days[6])}`),
      h("a", { href: `#${link(weekFrom(week.week_start, 1))}` }, "Next week →")),
    h("p", {}, "Status: ", h("span", { id: "week-status" }, badge(week.status)),
      ` · ${hours(week.total)} h, ${hours(week.billable_total)} h billable`,
      h("span", { id: "week-billed" }, ` · ${hours(billedHours)} h billed`)),
    week.status === "returned" && week.comment ? h("p", { class: "notice", id: "week-comment" }, `Returned: ${week.comment}`) : null,
    week.locked ? h("p", { class: "notice" }, week.status === "approved"
      ? "This week is approved and locked: log a correction in an open week to change it."
      : "This week is submitted and locked until it is approved or returned.") : null,
    own || ctx.can("erp.time_entries.write") ? timerPanel(week, projects, person, ctx, errors) : null,
    form);
  return { events: ["time."] };
}

function returnDialog(item, who) {
  return formDialog({
    title: `Return the week ${item.week} of ${who}`,
    submitLabel: "Return week",
    build: (body) => body.append(field("Comment", h("textarea", { name: "comment", required: true, maxlength: 2000 }), "what to fix")),
    submit: async (data) => {
      const returned = await api(`/api/erp/timesheets/${encodeURIComponent(item.person_id)}/${item.week}/return`,
        { method: "POST", json: { comment: data.comment } });
      toast("Week returned.");
      return returned;
    },
  });
}

export async function approvalsView(root, ctx) {
  const page = await optional(api("/api/erp/timesheets", { query: { limit: 200 } }));
  root.append(pageHead("Approvals"));
  if (page === null) { root.append(unavailable("Approvals")); return {}; }
  const people = await colleagues();
  const errors = h("div", { "aria-live": "assertive" });
  const who = (item) => personName(people, item.person_id);
  root.append(errors, table([
    { label: "Person", value: (x) => who(x) },
    { label: "Week", value: (x) => h("a", { href: `#/timesheet?week=${x.week}&person=${encodeURIComponent(x.person_id)}` }, x.week) },
    { label: "Hours", value: (x) => hours(x.hours), num: true },
    { label: "Billable", value: (x) => hours(x.billable_hours), num: true },
    { label: "Submitted", value: (x) => dateTime(x.submitted_at) },
    { label: "", value: (x) => (x.person_id === ctx.me.id ? h("span", { class: "small muted" }, "your own week") : h("div", { class: "actions" },
      h("button", { type: "button", "aria-label": `Approve ${x.week} of ${who(x)}`, onclick: (e) => act(e.currentTarget, async () => {
        await api(`/api/erp/timesheets/${encodeURIComponent(x.person_id)}/${x.week}/approve`, { method: "POST" });
        toast("Week approved.");
        ctx.refresh();
      }, errors) }, "Approve"),
      h("button", { type: "button", class: "secondary", "aria-label": `Return ${x.week} of ${who(x)}`,
        onclick: async () => { if (await returnDialog(x, who(x))) ctx.refresh(); } }, "Return"))) },
  ], itemsOf(page), { empty: "No week is waiting for approval." }));
  return { events: ["time."] };
}
