// Resource planning: the planning board (people x weeks: booked of capacity, actual hours, over-allocation), booking
// people on projects and open deals from it, and staffing a won deal's project from the deal's bookings.

import { api, all, optional } from "../api.js";
import { h, field, select, date, formDialog, toast, confirmDialog, isoDate, addDays } from "../ui.js";
import { pageHead, colleagues, personName, DATE_BOUNDS } from "./common.js";

const WRITE = "erp.bookings.write";
const SPANS = [["4", "4 weeks"], ["8", "8 weeks"], ["13", "13 weeks"], ["26", "26 weeks"]];

// The Monday of the week `day` falls in (weeks are given by their Monday everywhere in the planning).
function mondayOf(day) {
  const d = new Date(`${day}T12:00:00`);
  return isoDate(addDays(d, -((d.getDay() + 6) % 7)));
}

const hours = (value) => `${Number(value).toLocaleString("en-US", { maximumFractionDigits: 2 })} h`;

// What a booking is on: its project, else its deal (a deal's booking counts weighted by the deal's probability).
function targetName(booking, names) {
  if (booking.project_id) return names.projects[booking.project_id] || "Project";
  return `${names.deals[booking.deal_id] || "Deal"} (deal)`;
}

export async function planningView(root, ctx) {
  // `from` is what the page writes; `from_week` (the API's name) is accepted too, for links typed by hand.
  const fromWeek = mondayOf(ctx.query.get("from") || ctx.query.get("from_week") || isoDate());
  const weeks = SPANS.some(([v]) => v === ctx.query.get("weeks")) ? ctx.query.get("weeks") : "8";
  const [board, people, projects, deals] = await Promise.all([
    api("/api/erp/planning", { query: { from_week: fromWeek, weeks } }), colleagues(),
    optional(all("/api/erp/projects", { status: "active" }, 1000)), optional(api("/api/erp/open-deals")),
  ]);
  const names = {
    projects: Object.fromEntries((projects || []).map((p) => [p.id, p.name])),
    deals: Object.fromEntries((deals || []).map((d) => [d.deal_id, d.title])),
  };
  const options = { people, board, projects: projects || [], deals: deals || [], names, ctx };
  const writer = ctx.can(WRITE);

  const from = h("input", { type: "date", id: "planning-from", value: fromWeek, step: 7, min: "2000-01-03", max: DATE_BOUNDS.max });
  const span = select({ id: "planning-weeks" }, SPANS, weeks);
  const go = () => ctx.navigate(`/planning?from=${mondayOf(from.value || isoDate())}&weeks=${span.value}`);
  from.addEventListener("change", go);
  span.addEventListener("change", go);
  root.append(
    pageHead("Planning",
      writer ? h("button", { type: "button", id: "add-booking", onclick: () => bookingDialog(options, {}) }, "Add booking") : null,
      writer ? h("button", { type: "button", class: "secondary", id: "staff-project", onclick: () => staffDialog(options) },
        "Staff a won deal's project") : null),
    h("div", { class: "filters" }, field("Weeks from", from, "the Monday of the first week"), field("Show", span)),
    h("p", { class: "muted" }, "Each cell: hours booked of the person's capacity that week (tentative bookings on open deals ",
      "count by the deal's probability), then the hours they logged. ", h("strong", {}, "Over"), " marks a week booked beyond capacity."),
    boardTable(options, writer));
  return { events: ["booking.", "deal.", "project."] };
}

function boardTable(options, writer) {
  const { board, people } = options;
  if (!board.people.length) {
    return h("p", { class: "empty" }, "Nobody to plan yet: people appear here once they have a weekly capacity.");
  }
  const rows = [...board.people].sort((a, b) => personName(people, a.person_id).localeCompare(personName(people, b.person_id)));
  return h("div", { class: "table-wrap planning-board", tabindex: "0", role: "region", "aria-label": "Planning board" },
    h("table", { id: "planning-board" },
      h("caption", {}, `Hours booked of capacity, per person and week, from ${date(board.from_week)}`),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Person"),
        board.weeks.map((w) => h("th", { scope: "col", class: "num" }, weekLabel(w))))),
      h("tbody", {}, rows.map((row) => h("tr", { dataset: { person: row.person_id } },
        h("th", { scope: "row" }, personName(people, row.person_id)),
        board.weeks.map((week, i) => cell(options, row, week, i, writer)))))));
}

function weekLabel(week) {
  return new Date(`${week}T12:00:00`).toLocaleDateString("en-US", { month: "short", day: "numeric" });
}

// One person's week. Over-allocation shows as the word "Over" and an outline, not by colour alone.
function cell(options, row, week, i, writer) {
  const over = row.over_allocated[i];
  const who = personName(options.people, row.person_id);
  const text = [
    h("span", { class: "booked" }, `${hours(row.booked[i])} / ${hours(row.capacity[i])}`),
    Number(row.tentative[i]) ? h("span", { class: "small muted" }, `incl. ${hours(row.tentative[i])} tentative`) : null,
    Number(row.actual[i]) ? h("span", { class: "small" }, `logged ${hours(row.actual[i])}`) : null,
    over ? h("span", { class: "over-flag" }, "Over") : null,
  ];
  const label = `${who}, week of ${date(week)}: ${hours(row.booked[i])} booked of ${hours(row.capacity[i])}`
    + `${over ? ", over-allocated" : ""}${Number(row.actual[i]) ? `, ${hours(row.actual[i])} logged` : ""}`;
  // The button's name is its own text with the person and week around it (hidden), so what a sighted user reads
  // is part of what a screen reader says (axe: label-content-name-mismatch).
  const content = writer
    ? h("button", { type: "button", class: "cell-button", onclick: () => weekDialog(options, row.person_id, week) },
      h("span", { class: "visually-hidden" }, `${who}, week of ${date(week)}: `), ...text,
      h("span", { class: "visually-hidden" }, ". Edit bookings"))
    : h("div", { "aria-label": label, role: "group" }, text);
  return h("td", { class: `num plan-cell${over ? " over" : ""}`, dataset: { week, over: String(over) } }, content);
}

// A person's bookings in one week: change or remove each, or add another. The dialog closes with the choice made.
async function weekDialog(options, personId, week) {
  const result = await api("/api/erp/bookings", { query: { person_id: personId, week_from: week, week_to: week, limit: 100 } });
  let choice = { add: true };
  const choose = (form, chosen) => { choice = chosen; form.requestSubmit(); };
  const done = await formDialog({
    title: `${personName(options.people, personId)}, week of ${date(week)}`,
    submitLabel: "Add booking",
    build(body, form) {
      body.append(result.items.length
        ? h("ul", { class: "booking-list" }, result.items.map((b) => h("li", {},
          h("span", {}, `${targetName(b, options.names)}: ${hours(b.hours)}, ${b.status}${b.note ? ` (${b.note})` : ""}`),
          h("span", { class: "actions" },
            h("button", { type: "button", class: "secondary", "aria-label": `Edit ${targetName(b, options.names)}`,
              onclick: () => choose(form, { edit: b }) }, "Edit"),
            h("button", { type: "button", class: "danger", "aria-label": `Remove ${targetName(b, options.names)}`,
              onclick: () => choose(form, { remove: b }) }, "Remove")))))
        : h("p", { class: "empty" }, "No bookings this week."));
    },
    submit: async () => choice,
  });
  if (done?.edit) await bookingDialog(options, done.edit);
  else if (done?.remove) await removeBooking(options, done.remove);
  else if (done?.add) await bookingDialog(options, { person_id: personId, week });
}

async function removeBooking(options, booking) {
  if (!await confirmDialog(`Remove the booking on ${targetName(booking, options.names)}?`, "Remove")) return;
  try {
    await api(`/api/erp/bookings/${booking.id}`, { method: "DELETE" });
    toast("Booking removed.");
    options.ctx.refresh();
  } catch (error) {
    toast(error.message || "The booking could not be removed.", "bad");
  }
}

// Add a booking (`booking` has no id; it may preset the person and week) or change one.
function bookingDialog(options, booking) {
  const editing = Boolean(booking.id);
  const everyone = new Map(options.people.map((p) => [p.id, personName(options.people, p.id)]));
  for (const row of options.board.people) if (!everyone.has(row.person_id)) everyone.set(row.person_id, personName(options.people, row.person_id));
  return formDialog({
    title: editing ? `Change the booking on ${targetName(booking, options.names)}` : "Add booking",
    submitLabel: editing ? "Save" : "Book",
    build(body) {
      if (!editing) {
        const targets = h("select", { name: "target", required: true },
          h("option", { value: "" }, "Choose a project or an open deal"),
          h("optgroup", { label: "Projects" }, options.projects.map((p) => h("option", { value: `project:${p.id}` }, p.name))),
          h("optgroup", { label: "Open deals (tentative, weighted by probability)" },
            options.deals.map((d) => h("option", { value: `deal:${d.deal_id}` },
              `${d.title}${d.probability === null ? "" : ` (${Number(d.probability)} %)`}`))));
        body.append(
          field("Person", select({ name: "person_id", required: true }, [["", "Choose a person"], ...everyone], booking.person_id || "")),
          field("Project or deal", targets));
      }
      body.append(
        field("Week", { name: "week", type: "date", required: true, step: 7, min: "2000-01-03", max: DATE_BOUNDS.max,
          value: booking.week || mondayOf(isoDate()) }, "its Monday"),
        field("Hours", { name: "hours", type: "number", required: true, min: 0.25, max: 168, step: 0.25, value: booking.hours || "" }),
        field("Status", select({ name: "status" }, [["tentative", "Tentative"], ["confirmed", "Confirmed (projects only)"]],
          booking.status || "tentative")),
        field("Note", { name: "note", maxlength: 2000, value: booking.note || "" }));
    },
    async submit(data) {
      const common = { week: data.week, hours: data.hours, status: data.status, note: data.note || null };
      let saved;
      if (editing) {
        saved = await api(`/api/erp/bookings/${booking.id}`, { method: "PATCH", json: common });
      } else {
        const [kind, id] = data.target.split(":");
        saved = await api("/api/erp/bookings", { method: "POST",
          json: { ...common, person_id: data.person_id, [kind === "deal" ? "deal_id" : "project_id"]: id } });
      }
      toast(saved.over_capacity
        ? `Booked beyond capacity: ${hours(saved.week_booked)} of ${hours(saved.week_capacity)} that week.`
        : "Booking saved.", saved.over_capacity ? "bad" : "good");
      options.ctx.refresh();
      return saved;
    },
  });
}

// A won deal's project takes over the deal's bookings (confirmed, or left tentative).
function staffDialog(options) {
  const fromDeals = options.projects.filter((p) => p.deal_id);
  return formDialog({
    title: "Staff a won deal's project",
    submitLabel: "Staff it",
    build(body) {
      body.append(
        h("p", { class: "muted" }, "The people booked on the deal before it was won are booked on its project instead."),
        field("Project", select({ name: "project_id", required: true },
          [["", "Choose a project made from a won deal"], ...fromDeals.map((p) => [p.id, p.name])], "")),
        h("div", { class: "field" }, h("input", { type: "checkbox", name: "confirm", id: "staff-confirm", checked: true }),
          h("label", { for: "staff-confirm", style: "display:inline;margin-left:.4rem" }, "Confirm the bookings")));
    },
    async submit(data) {
      const moved = await api(`/api/erp/projects/${data.project_id}/staff-from-deal`, { method: "POST",
        json: { confirm: Boolean(data.confirm) } });
      toast(moved.length ? `${moved.length} booking${moved.length === 1 ? "" : "s"} moved to the project.`
        : "The deal had no bookings left to move.", "good");
      options.ctx.refresh();
      return moved;
    },
  });
}
