// The bell: what needs the user (leads assigned, tasks due, expenses to approve, overdue invoices of their clients),
// from GET /api/notifications. A button with the unread count opens a list; each item links to its page and can be
// marked read, or all at once. Keyboard: Enter/Space opens, Escape closes and returns to the button.

import { api } from "../api.js";
import { h, s, errorBox, announce, dateTime } from "../ui.js";

const POLL_MS = 60_000;

function bellIcon() {
  return s("svg", { class: "bell-icon", viewBox: "0 0 24 24", width: "16", height: "16", "aria-hidden": "true", focusable: "false" },
    s("path", { d: "M12 2a6 6 0 0 0-6 6v4.2L4.3 15.6A1 1 0 0 0 5.2 17h13.6a1 1 0 0 0 .9-1.4L18 12.2V8a6 6 0 0 0-6-6zm0 20a3 3 0 0 0 2.8-2H9.2A3 3 0 0 0 12 22z", fill: "currentColor" }));
}

export function notificationBell() {
  let current = { items: [], unread: 0, unavailable: [] };
  let timer = null;
  const count = h("span", { class: "bell-count", "aria-hidden": "true" });
  const button = h("button", { type: "button", class: "bell", id: "bell", "aria-expanded": "false", "aria-controls": "bell-panel",
    "aria-label": "Notifications" }, bellIcon(), " Notifications ", count);
  const list = h("ul", { class: "bell-list", id: "bell-list" });
  const errors = h("div", { "aria-live": "assertive" });
  const markAll = h("button", { type: "button", class: "secondary", id: "bell-read-all" }, "Mark all read");
  const panel = h("div", { class: "bell-panel", id: "bell-panel", role: "region", "aria-label": "Notifications", hidden: true },
    h("div", { class: "bell-head" }, h("strong", {}, "Notifications"), markAll), errors, list);
  const box = h("div", { class: "bell-box" }, button, panel);

  function show(data) {
    current = data;
    count.textContent = data.unread ? String(data.unread) : "";
    count.classList.toggle("none", !data.unread);
    button.setAttribute("aria-label", data.unread ? `Notifications: ${data.unread} unread` : "Notifications: none unread");
    markAll.disabled = !data.unread;
    list.replaceChildren(...(data.items.length ? data.items.map((n) => h("li", { class: n.read ? "read" : "unread", dataset: { key: n.key } },
      h("a", { href: n.link, onclick: () => close() }, n.title),
      n.detail ? h("div", { class: "small" }, n.detail) : null,
      h("div", { class: "small" }, dateTime(n.at), n.read ? " · read" : ""),
      n.read ? null : h("button", { type: "button", class: "link-button", "aria-label": `Mark read: ${n.title}`,
        onclick: () => mark([n.key]) }, "Mark read"))) : [h("li", { class: "empty" }, "Nothing needs you right now.")]),
    ...(data.unavailable.length ? [h("li", { class: "small" }, `Not shown: ${data.unavailable.join(", ")} did not answer.`)] : []));
  }

  async function load() {
    try {
      show(await api("/api/notifications"));
      errors.replaceChildren();
    } catch (error) {
      errors.replaceChildren(errorBox(error, "Notifications"));
    }
  }

  async function mark(keys) {
    try {
      show(await api("/api/notifications/read", { method: "POST", json: { keys } }));
      announce(`${current.unread} unread`);
      (list.querySelector("button") || markAll).focus();
    } catch (error) { errors.replaceChildren(errorBox(error)); }
  }

  function open() {
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    load().then(() => (list.querySelector("a") || markAll).focus());
  }

  function close(refocus = false) {
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    if (refocus) button.focus();
  }

  button.addEventListener("click", () => (panel.hidden ? open() : close()));
  markAll.addEventListener("click", async () => {
    try {
      show(await api("/api/notifications/read-all", { method: "POST" }));
      announce("All notifications marked read");
      button.focus();
    } catch (error) { errors.replaceChildren(errorBox(error)); }
  });
  box.addEventListener("keydown", (event) => { if (event.key === "Escape" && !panel.hidden) { event.stopPropagation(); close(true); } });
  document.addEventListener("click", (event) => { if (!panel.hidden && !box.contains(event.target)) close(); });

  const poll = () => { timer = setTimeout(async () => { if (box.isConnected) { await load(); poll(); } }, POLL_MS); };
  load();
  poll();
  box.stop = () => clearTimeout(timer);
  return box;
}
