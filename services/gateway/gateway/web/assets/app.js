// Throughline web app: login, role-shaped layout, hash routing, live updates.

import { api, login, logout, session, sessionEvents, accessToken, refreshTokens, changePassword, ApiError } from "./api.js";
import { h, field, errorBox, toast, announce, formDialog } from "./ui.js";
import { can, NAV } from "./nav.js";
import { dashboardView } from "./views/dashboard.js";
import { pipelineView, dealView } from "./views/deals.js";
import { companiesView, companyView } from "./views/companies.js";
import { leadsView, tasksView, forecastView } from "./views/sales.js";
import { projectsView, projectView } from "./views/projects.js";
import { planningView } from "./views/planning.js";
import { invoicesView, invoiceView } from "./views/invoices.js";
import { bankView } from "./views/banking.js";
import { expensesView } from "./views/expenses.js";
import { peopleView, personView } from "./views/people.js";
import { timesheetView, approvalsView } from "./views/timesheets.js";
import { reportsView } from "./views/reports.js";
import { efficiencyView } from "./views/budget.js";
import { booksView, accountsView, journalView, periodsView, vatView } from "./views/books.js";
import { settingsView } from "./views/settings.js";
import { contactsView, contactView } from "./views/contacts.js";
import { leadView } from "./views/lead.js";
import { setupView, usersView, pipelinesSetupView, automationSetupView, leadCaptureView } from "./views/setup.js";
import { templatesView, sequencesView, sequenceView } from "./views/mail.js";
import { searchView } from "./views/search.js";
import { importExportView } from "./views/csv.js";
import { notificationBell } from "./views/notifications.js";
import { invoiceMailSettingsView, sentMailView } from "./views/invoice_mail.js";
import { vendorsView, billsView, apAgingView } from "./views/payables.js";
import { scenariosView, recurringItemsView, exchangeRatesView } from "./views/cash.js";

const ROUTES = [
  [/^\/?$/, dashboardView],
  [/^\/pipeline$/, pipelineView],
  [/^\/deals\/([\w-]+)$/, dealView],
  [/^\/companies$/, companiesView],
  [/^\/companies\/([\w-]+)$/, companyView],
  [/^\/contacts$/, contactsView],
  [/^\/contacts\/([\w-]+)$/, contactView],
  [/^\/leads$/, leadsView],
  [/^\/leads\/([\w-]+)$/, leadView],
  [/^\/tasks$/, tasksView],
  [/^\/forecast$/, forecastView],
  [/^\/projects$/, projectsView],
  [/^\/projects\/([\w-]+)$/, projectView],
  [/^\/planning$/, planningView],
  [/^\/invoices$/, invoicesView],
  [/^\/invoices\/([\w-]+)$/, invoiceView],
  [/^\/bank$/, bankView],
  [/^\/expenses$/, expensesView],
  [/^\/people$/, peopleView],
  [/^\/people\/([\w-]+)$/, personView],
  [/^\/timesheet$/, timesheetView],
  [/^\/approvals$/, approvalsView],
  [/^\/reports$/, reportsView],
  [/^\/efficiency$/, efficiencyView],
  [/^\/books$/, booksView],
  [/^\/books\/accounts$/, accountsView],
  [/^\/books\/vat$/, vatView],
  [/^\/books\/journal$/, journalView],
  [/^\/books\/periods$/, periodsView],
  [/^\/settings$/, settingsView],
  [/^\/settings\/invoice-mail$/, invoiceMailSettingsView],
  [/^\/sent-mail$/, sentMailView],
  [/^\/setup$/, setupView],
  [/^\/setup\/users$/, usersView],
  [/^\/setup\/pipelines$/, pipelinesSetupView],
  [/^\/setup\/automation$/, automationSetupView],
  [/^\/setup\/lead-capture$/, leadCaptureView],
  [/^\/sequences$/, sequencesView],
  [/^\/sequences\/([\w-]+)$/, sequenceView],
  [/^\/mail-templates$/, templatesView],
  [/^\/search$/, searchView],
  [/^\/import$/, importExportView],
  [/^\/bills$/, billsView],
  [/^\/vendors$/, vendorsView],
  [/^\/ap-aging$/, apAgingView],
  [/^\/cash-scenarios$/, scenariosView],
  [/^\/recurring-items$/, recurringItemsView],
  [/^\/exchange-rates$/, exchangeRatesView],
];

const app = document.getElementById("app");
const state = { me: null, view: null, main: null, live: null, renderSeq: 0, pendingEvents: new Set(), refreshTimer: null };

// --- login ---------------------------------------------------------------------------------------

function showLogin(message) {
  closeLive();
  state.me = null;
  document.title = "Log in · Throughline";
  const errors = h("div", { "aria-live": "assertive" }, message ? h("p", { class: "notice", role: "status" }, message) : null);
  const email = h("input", { name: "username", type: "email", autocomplete: "username", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit" }, "Log in");
  const form = h("form", { class: "panel login", "aria-labelledby": "login-title" },
    h("h1", { id: "login-title" }, "Throughline"),
    h("p", { class: "muted" }, "CRM and ERP for service businesses. Log in to continue."),
    field("Email", email), field("Password", password), errors, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    submit.disabled = true;
    errors.replaceChildren();
    try {
      state.me = await login(email.value.trim(), password.value);
      start();
    } catch (error) {
      const friendly = error instanceof ApiError && error.status === 401
        ? h("div", { class: "error", role: "alert" }, h("strong", {}, "Wrong email or password."), h("div", {}, error.message))
        : errorBox(error);
      errors.replaceChildren(friendly);
      submit.disabled = false;
      password.select();
    }
  });
  app.replaceChildren(h("main", { id: "main", class: "login-wrap" }, form));
  app.removeAttribute("aria-busy");
  email.focus();
}

// A set-password link (an invitation, or a reset by an admin): choose a password, then log in with it.
function showSetPassword(token) {
  closeLive();
  state.me = null;
  document.title = "Choose your password · Throughline";
  const errors = h("div", { "aria-live": "assertive" });
  const password = h("input", { name: "new_password", type: "password", autocomplete: "new-password", required: true, minlength: 8, maxlength: 200 });
  const repeat = h("input", { name: "repeat", type: "password", autocomplete: "new-password", required: true });
  const submit = h("button", { type: "submit" }, "Set password and log in");
  const form = h("form", { class: "panel login", "aria-labelledby": "set-password-title" },
    h("h1", { id: "set-password-title" }, "Choose your password"),
    h("p", { class: "muted" }, "Welcome to Throughline. This link works once."),
    field("New password", password, "at least 8 characters; not a common password"), field("Repeat the password", repeat), errors, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!form.reportValidity()) return;
    errors.replaceChildren();
    if (password.value !== repeat.value) {
      errors.replaceChildren(errorBox(new ApiError(422, { title: "The passwords differ", detail: "Type the same password twice." })));
      return;
    }
    submit.disabled = true;
    try {
      const response = await fetch("/api/auth/set-password", { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ token, password: password.value }) });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw new ApiError(response.status, body);
      state.me = await login(body.email, password.value);
      history.replaceState(null, "", "#/");
      start();
    } catch (error) {
      const gone = error instanceof ApiError && [403, 410].includes(error.status);
      errors.replaceChildren(gone ? h("div", { class: "error", role: "alert" }, h("strong", {}, "This link cannot be used."),
        h("div", {}, error.message), h("div", {}, "Ask an admin for a new link.")) : errorBox(error));
      submit.disabled = false;
    }
  });
  app.replaceChildren(h("main", { id: "main", class: "login-wrap" }, form));
  app.removeAttribute("aria-busy");
  password.focus();
}

sessionEvents.addEventListener("expired", (event) => showLogin(event.detail));
// Leaving the page closes the stream; that is no reason to reconnect (or to renew tokens).
window.addEventListener("pagehide", () => closeLive());
// Another tab logged out (or in as someone else): follow it.
window.addEventListener("storage", (event) => {
  if (event.key !== "throughline.session") return;
  const next = session.get();
  if (!next && state.me) showLogin("You have logged out in another tab.");
  else if (next?.me && state.me && next.me.id !== state.me.id) location.reload();
});

// --- layout --------------------------------------------------------------------------------------

function layout() {
  const me = state.me;
  const nav = h("ul", { class: "nav" }, NAV.filter((item) => item.roles.includes(me.role) || me.role === "admin")
    .map((item) => h("li", {}, h("a", { href: `#${item.path}`, dataset: { path: item.path } }, item.label))));
  const liveState = h("div", { class: "live-state", "data-state": "idle", id: "live-state" },
    h("span", { class: "live-dot", "aria-hidden": "true" }), h("span", { class: "live-text" }, "Live updates: connecting"));
  const sidebar = h("nav", { class: "sidebar", "aria-label": "Main" });
  const toggle = h("button", { type: "button", class: "menu-toggle", "aria-expanded": "false", "aria-controls": "nav-list",
    onclick: () => {
      const open = sidebar.classList.toggle("open");
      toggle.setAttribute("aria-expanded", String(open));
    } }, "Menu");
  nav.id = "nav-list";
  sidebar.append(h("div", { class: "brand" }, "Throughline", h("small", {}, "CRM + ERP")), notificationBell(), toggle, nav,
    h("div", { class: "user-box" }, liveState, h("strong", { id: "me-email" }, me.email),
      h("span", { class: "role", id: "me-role" }, me.role.replace("_", " ")),
      h("div", { class: "user-actions" },
        h("button", { type: "button", class: "secondary", id: "change-password", onclick: () => passwordDialog() }, "Change password"),
        h("button", { type: "button", class: "secondary", id: "logout", onclick: doLogout }, "Log out"))));
  state.main = h("main", { id: "main", tabindex: "-1" });
  // A member searches nothing (gateway.search): their own work is a click away in the menu.
  app.replaceChildren(h("div", { class: "layout" }, sidebar,
    h("div", { class: "content" }, can(me, "gateway.search") ? searchBar() : null, state.main)));
  app.removeAttribute("aria-busy");
  sidebar.addEventListener("click", (e) => { if (e.target.closest("a")) { sidebar.classList.remove("open"); toggle.setAttribute("aria-expanded", "false"); } });
}

// The search box on every screen (issue 24): Enter opens #/search?q=...; "/" anywhere outside a field focuses it.
function searchBar() {
  const input = h("input", { type: "search", id: "global-search", name: "q", autocomplete: "off", maxlength: 200,
    placeholder: "Search companies, contacts, deals, leads, projects, invoices", "aria-keyshortcuts": "/" });
  const form = h("form", { role: "search", class: "search-bar", "aria-label": "Everything" },
    h("label", { for: "global-search", class: "visually-hidden" }, "Search"), input,
    h("button", { type: "submit", class: "secondary", title: "Search everything (Enter)" }, "Find"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = input.value.trim();
    if (q) location.hash = `#/search?q=${encodeURIComponent(q)}`;
  });
  return h("header", { class: "topbar" }, form);
}

function syncSearchBox() {
  const input = document.getElementById("global-search");
  if (input && document.activeElement !== input) input.value = currentPath() === "/search" ? (queryOf().get("q") || "") : "";
}

document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof HTMLElement && (target.isContentEditable || target.closest("input, textarea, select, dialog[open]"))) return;
  const input = document.getElementById("global-search");
  if (!input) return;
  event.preventDefault();
  input.focus();
  input.select();
});

// Change password: for every role, from the sidebar; opened by itself when the account must change its password
// (the configured first admin's, when it fails the policy).
async function passwordDialog(required = false) {
  const done = await formDialog({
    title: required ? "Choose a new password" : "Change password",
    submitLabel: "Change password",
    build(body) {
      if (required) body.append(h("p", { class: "notice", id: "password-required" }, "The password you logged in with is too weak (it was set in the server's configuration). Choose a new one."));
      body.append(
        field("Current password", { name: "current_password", type: "password", autocomplete: "current-password", required: true }),
        field("New password", { name: "new_password", type: "password", autocomplete: "new-password", required: true, minlength: 8, maxlength: 200 },
          "at least 8 characters; not a common password"),
        field("Repeat the new password", { name: "repeat", type: "password", autocomplete: "new-password", required: true }),
        h("p", { class: "muted small" }, "Every other session of your account ends: other browsers and devices will ask you to log in again."));
    },
    async submit(data) {
      if (data.new_password !== data.repeat) {
        throw new ApiError(422, { title: "The new passwords differ", detail: "Type the same new password twice." });
      }
      closeLive(); // its token is about to be refused; it reopens with the new one
      try {
        await changePassword(data.current_password, data.new_password);
      } finally {
        if (state.me) openLive();
      }
      return true;
    },
  });
  if (done) {
    state.me = { ...state.me, password_change_required: false };
    toast("Password changed. Your other sessions have been logged out.", "good");
    announce("Password changed");
  }
}

async function doLogout() {
  closeLive();
  await logout();
  location.hash = "#/";
  showLogin("You have logged out.");
}

// --- routing -------------------------------------------------------------------------------------

function currentPath() { return (location.hash || "#/").slice(1).split("?")[0] || "/"; }
export function queryOf() { return new URLSearchParams((location.hash.split("?")[1]) || ""); }

async function render({ quiet = false } = {}) {
  if (!state.me || !state.main) return;
  const path = currentPath();
  const seq = ++state.renderSeq;
  syncSearchBox();
  for (const a of document.querySelectorAll(".nav a")) {
    const p = a.dataset.path;
    if (p === path || (p !== "/" && path.startsWith(`${p}/`)) || (p === "/pipeline" && path.startsWith("/deals/"))) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  let view = null; let params = [];
  for (const [pattern, fn] of ROUTES) {
    const m = path.match(pattern);
    if (m) { view = fn; params = m.slice(1); break; }
  }
  const target = h("div", { class: "view" });
  // Views build with `root.append(a, cond ? b : null)`; the DOM's own append would print that null as "null".
  target.append = (...nodes) => Element.prototype.append.apply(target, nodes.flat(Infinity).filter((n) => n !== null && n !== undefined && n !== false));
  const ctx = {
    me: state.me, can: (action) => can(state.me, action), params, query: queryOf(),
    refresh: () => render({ quiet: true }), navigate: (to) => { location.hash = `#${to}`; },
    stale: () => seq !== state.renderSeq,
  };
  if (!view) {
    target.append(h("h1", {}, "Page not found"), h("p", {}, "There is no page at this address. ", h("a", { href: "#/" }, "Go to the dashboard.")));
    state.main.replaceChildren(target);
    return;
  }
  if (!quiet) state.main.setAttribute("aria-busy", "true");
  try {
    const result = await view(target, ctx);
    if (seq !== state.renderSeq) return; // a newer render won
    if (quiet && busy()) { state.refreshOwed = true; scheduleRefresh(1000); return; } // not under a held pointer
    state.view = { events: result?.events || [], path };
    const scroll = window.scrollY;
    const focus = quiet ? focusedControl() : null;
    state.main.replaceChildren(target);
    if (quiet) { window.scrollTo(0, scroll); refocus(target, focus); }
    else {
      const heading = target.querySelector("h1");
      document.title = `${heading ? heading.textContent : "Throughline"} · Throughline`;
      state.main.focus({ preventScroll: true });
    }
  } catch (error) {
    if (seq !== state.renderSeq) return;
    if (error instanceof ApiError && error.status === 401) return; // the login screen is already up
    state.main.replaceChildren(h("div", { class: "view" }, h("h1", {}, "This page could not be loaded"), errorBox(error, "This page")));
  } finally {
    state.main?.removeAttribute("aria-busy");
  }
}

// A new page loads fresh data: refreshes owed to the previous page are dropped.
window.addEventListener("hashchange", () => {
  clearTimeout(state.refreshTimer);
  state.pendingEvents.clear();
  state.refreshOwed = false;
  delete document.body.dataset.refreshPending;
  if (currentPath() === "/set-password") start(); else render();
});

// A live refresh replaces the page's nodes: keyboard focus goes back to the same control in the new ones (found by
// its id, or its tag and accessible text), so a keyboard user does not lose their place.
const accessibleText = (el) => el.getAttribute("aria-label") || el.labels?.[0]?.textContent.trim() || el.textContent.trim();

function focusedControl() {
  const el = document.activeElement;
  if (!el || el === document.body || !state.main?.contains(el)) return null;
  // Ids made by ui.js `field` (f-N) are new on every render; others are stable.
  return { id: /^f-\d+$/.test(el.id) ? "" : el.id, tag: el.tagName, name: accessibleText(el) };
}

function refocus(root, focus) {
  if (!focus) return;
  const same = (focus.id && root.querySelector(`#${CSS.escape(focus.id)}`))
    || [...root.querySelectorAll(focus.tag)].find((el) => accessibleText(el) === focus.name);
  if (same) same.focus({ preventScroll: true });
}

// --- live updates (server-sent events from the gateway) -------------------------------------------

function setLive(stateName, text) {
  const el = document.getElementById("live-state");
  if (!el) return;
  el.dataset.state = stateName;
  el.querySelector(".live-text").textContent = text;
}

function closeLive() {
  if (state.live) { state.live.closed = true; state.live.source?.close(); clearTimeout(state.live.timer); }
  state.live = null;
}

async function openLive(backoff = 1000) {
  closeLive();
  const live = { closed: false, source: null, timer: null };
  state.live = live;
  const token = await accessToken().catch(() => null);
  if (!token || live.closed) return;
  const source = new EventSource(`/api/live?access_token=${encodeURIComponent(token)}`);
  live.source = source;
  const reconnect = async (delay, renew) => {
    source.close();
    if (live.closed) return;
    setLive("off", "Live updates: reconnecting");
    if (renew) await refreshTokens(token).catch(() => null);
    live.timer = setTimeout(() => { if (!live.closed && state.me) openLive(Math.min(delay * 2, 30000)); }, delay);
  };
  source.addEventListener("ready", (e) => {
    let data = {};
    try { data = JSON.parse(e.data); } catch { /* ignore */ }
    setLive(data.live === false ? "off" : "on", data.live === false ? "Live updates: waiting for events" : "Live updates: on");
    document.body.dataset.live = "ready";
    backoff = 1000;
  });
  source.addEventListener("token-expired", () => reconnect(10, true));
  // This session was ended (the account was disabled or changed, or its password changed elsewhere): the refresh
  // fails and the login screen comes up, unless this tab already holds newer tokens.
  source.addEventListener("token-revoked", () => reconnect(10, true));
  source.addEventListener("overflow", () => reconnect(500, false));
  source.onmessage = () => {};
  source.onerror = () => {
    // EventSource retries by itself on a dropped connection; a refused one (401, 404) closes it. The next
    // attempt asks for a fresh token only if the current one is about to expire (openLive -> accessToken).
    if (source.readyState === EventSource.CLOSED) reconnect(backoff, false);
    else setLive("off", "Live updates: reconnecting");
  };
  // Every named event: refresh the view when it cares about that type.
  for (const type of LIVE_TYPES) source.addEventListener(type, onLiveEvent);
}

const LIVE_TYPES = ["lead.created", "lead.converted", "company.created", "company.updated", "contact.created",
  "contact.updated", "deal.created", "deal.stage_changed", "deal.updated", "deal.won", "deal.lost", "project.created",
  "invoice.issued", "payment.recorded", "invoice.paid", "invoice.overdue", "invoice.voided", "invoice.credited",
  "credit_note.issued", "expense.submitted", "expense.approved", "expense.rejected", "task.created", "task.completed",
  "activity.logged", "mail.sent", "mail.reply_received", "quote.sent", "quote.accepted", "quote.declined", "booking.changed"];

const seen = [];

function onLiveEvent(event) {
  let envelope = null;
  try { envelope = JSON.parse(event.data); } catch { return; }
  document.body.dataset.lastEvent = envelope.event_type;
  // What arrived lately (the tests, and anyone debugging, can see it on <body>).
  seen.push(envelope.event_type);
  if (seen.length > 50) seen.shift();
  document.body.dataset.seenEvents = seen.join(" ");
  const wanted = state.view?.events || [];
  if (!wanted.some((prefix) => envelope.event_type.startsWith(prefix))) return;
  state.pendingEvents.add(envelope.event_type);
  // Coalesce bursts (a win brings deal.won then project.created) into one refresh.
  scheduleRefresh(250);
}

// Someone is typing in a dialog, holding the pointer down on the board, or dragging a card.
function busy() {
  return Boolean(document.querySelector("dialog[open], .dragging") || document.body.dataset.pressing);
}
// A press that ends without a drag (a click) releases the board too.
for (const type of ["pointerup", "pointercancel", "dragend"]) {
  window.addEventListener(type, () => {
    delete document.body.dataset.pressing;
    for (const el of document.querySelectorAll("[data-pressed]")) delete el.dataset.pressed;
  }, true);
}

function scheduleRefresh(delay) {
  clearTimeout(state.refreshTimer);
  document.body.dataset.refreshPending = "true";
  state.refreshTimer = setTimeout(async () => {
    // Never yank a form from under someone typing, or a card from under someone pressing or dragging it: later.
    if (busy()) { scheduleRefresh(1000); return; }
    const types = [...state.pendingEvents];
    state.pendingEvents.clear();
    const owed = state.refreshOwed;
    state.refreshOwed = false;
    if (types.length || owed) {
      await render({ quiet: true });
      if (types.length) announce(`Updated: ${types.join(", ")}`);
    }
    if (!state.pendingEvents.size && !state.refreshOwed) delete document.body.dataset.refreshPending;
  }, delay);
}

// --- start ---------------------------------------------------------------------------------------

async function start() {
  if (currentPath() === "/set-password") { showSetPassword(queryOf().get("token") || ""); return; }
  const current = session.get();
  if (!current) { showLogin(); return; }
  try {
    state.me = await api("/api/auth/me");
    session.setMe(state.me);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) { showLogin("Your session has expired. Please log in again."); return; }
    state.me = current.me;
    if (!state.me) { showLogin(); app.querySelector("form")?.prepend(errorBox(error)); return; }
    toast("The server could not be reached; showing what it can.", "bad");
  }
  layout();
  render();
  openLive();
  if (state.me.password_change_required) passwordDialog(true);
}

// Keep the token fresh while the tab is open, so a long-open page does not die on its next click.
setInterval(() => { if (state.me) accessToken().catch(() => {}); }, 60_000);

window.throughline = { state, render };
start();
