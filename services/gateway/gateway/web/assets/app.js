// Throughline web app: login, role-shaped layout, hash routing, live updates.

import { api, login, logout, session, sessionEvents, accessToken, refreshTokens, ApiError } from "./api.js";
import { h, field, errorBox, toast, announce } from "./ui.js";
import { can, NAV } from "./nav.js";
import { dashboardView } from "./views/dashboard.js";
import { pipelineView, dealView } from "./views/deals.js";
import { companiesView, companyView } from "./views/companies.js";
import { leadsView, tasksView, forecastView } from "./views/sales.js";
import { projectsView, projectView } from "./views/projects.js";
import { invoicesView, invoiceView } from "./views/invoices.js";
import { bankView } from "./views/banking.js";
import { expensesView } from "./views/expenses.js";
import { reportsView } from "./views/reports.js";

const ROUTES = [
  [/^\/?$/, dashboardView],
  [/^\/pipeline$/, pipelineView],
  [/^\/deals\/([\w-]+)$/, dealView],
  [/^\/companies$/, companiesView],
  [/^\/companies\/([\w-]+)$/, companyView],
  [/^\/leads$/, leadsView],
  [/^\/tasks$/, tasksView],
  [/^\/forecast$/, forecastView],
  [/^\/projects$/, projectsView],
  [/^\/projects\/([\w-]+)$/, projectView],
  [/^\/invoices$/, invoicesView],
  [/^\/invoices\/([\w-]+)$/, invoiceView],
  [/^\/bank$/, bankView],
  [/^\/expenses$/, expensesView],
  [/^\/reports$/, reportsView],
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
  sidebar.append(h("div", { class: "brand" }, "Throughline", h("small", {}, "CRM + ERP")), toggle, nav,
    h("div", { class: "user-box" }, liveState, h("strong", { id: "me-email" }, me.email),
      h("span", { class: "role", id: "me-role" }, me.role.replace("_", " ")),
      h("div", {}, h("button", { type: "button", class: "secondary", id: "logout", onclick: doLogout }, "Log out"))));
  state.main = h("main", { id: "main", tabindex: "-1" });
  app.replaceChildren(h("div", { class: "layout" }, sidebar, state.main));
  app.removeAttribute("aria-busy");
  sidebar.addEventListener("click", (e) => { if (e.target.closest("a")) { sidebar.classList.remove("open"); toggle.setAttribute("aria-expanded", "false"); } });
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
    state.view = { events: result?.events || [], path };
    const scroll = window.scrollY;
    state.main.replaceChildren(target);
    if (quiet) window.scrollTo(0, scroll);
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

window.addEventListener("hashchange", () => render());

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
  "contact.updated", "deal.created", "deal.stage_changed", "deal.won", "deal.lost", "project.created",
  "invoice.issued", "payment.recorded", "invoice.paid", "invoice.overdue", "invoice.voided", "invoice.credited",
  "credit_note.issued", "expense.submitted", "expense.approved", "expense.rejected", "task.created", "task.completed",
  "activity.logged"];

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

function scheduleRefresh(delay) {
  clearTimeout(state.refreshTimer);
  document.body.dataset.refreshPending = "true";
  state.refreshTimer = setTimeout(async () => {
    // Never yank a form from under someone typing, or a card from under someone dragging: try again later.
    if (document.querySelector("dialog[open], .dragging")) { scheduleRefresh(1000); return; }
    const types = [...state.pendingEvents];
    state.pendingEvents.clear();
    if (types.length) {
      await render({ quiet: true });
      announce(`Updated: ${types.join(", ")}`);
    }
    if (!state.pendingEvents.size) delete document.body.dataset.refreshPending;
  }, delay);
}

// --- start ---------------------------------------------------------------------------------------

async function start() {
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
}

// Keep the token fresh while the tab is open, so a long-open page does not die on its next click.
setInterval(() => { if (state.me) accessToken().catch(() => {}); }, 60_000);

window.throughline = { state, render };
start();
