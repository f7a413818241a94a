// Small DOM helpers, formatting, dialogs, errors and inline-SVG charts. No framework.

import { ApiError } from "./api.js";
import { MINOR_UNITS } from "./currencies.js";

// h("div", {class: "x", onclick: fn}, child, "text", [children])
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "style") el.style.cssText = value; // CSSOM: allowed even under a strict CSP
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value" && "value" in el) el.value = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

const SVG = "http://www.w3.org/2000/svg";
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== undefined && value !== null) el.setAttribute(key, value);
  for (const child of children.flat()) if (child !== null && child !== undefined) el.append(child instanceof Node ? child : String(child));
  return el;
}

let fieldCounter = 0;
// A labelled input: field("Amount", {name: "amount", type: "number"}) or field("Stage", selectEl)
export function field(labelText, control, hint) {
  const input = control instanceof Node ? control : h("input", control);
  if (!input.id) { fieldCounter += 1; input.id = `f-${fieldCounter}`; }
  const hintEl = hint ? h("span", { class: "hint", id: `${input.id}-hint` }, ` ${hint}`) : null;
  if (hintEl) input.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: input.id }, labelText, hintEl), input);
}

export function select(attrs, options, selected) {
  return h("select", attrs, options.map(([value, text]) => h("option", { value, selected: String(value) === String(selected) }, text)));
}

// --- formatting ------------------------------------------------------------------------------------

export function money(amount, currency) {
  if (amount === null || amount === undefined || amount === "") return "—";
  const value = Number(amount);
  if (!currency) return value.toLocaleString("en-US", { maximumFractionDigits: 2 });
  try {
    return new Intl.NumberFormat("en-US", { style: "currency", currency, currencyDisplay: "code",
      minimumFractionDigits: MINOR_UNITS[currency] ?? 2, maximumFractionDigits: MINOR_UNITS[currency] ?? 2 }).format(value).replace(/\u00a0/g, " ");
  } catch {
    return `${currency} ${value.toFixed(MINOR_UNITS[currency] ?? 2)}`;
  }
}

// {EUR: 100, USD: 20} -> "EUR 100.00 · USD 20.00"
export function moneyByCurrency(totals, empty = "—") {
  const entries = Object.entries(totals).filter(([, v]) => Math.abs(v) > 0.0000001);
  if (!entries.length) return empty;
  return entries.sort(([a], [b]) => a.localeCompare(b)).map(([c, v]) => money(v, c)).join(" · ");
}

export function addTo(totals, currency, amount) {
  const key = currency || "";
  totals[key] = (totals[key] || 0) + Number(amount || 0);
  return totals;
}

export function date(value) {
  if (!value) return "—";
  const d = new Date(value.length === 10 ? `${value}T00:00:00` : value);
  if (Number.isNaN(d.getTime())) return value;
  return d.toLocaleDateString("en-GB", { year: "numeric", month: "short", day: "numeric" });
}

export function dateTime(value) {
  if (!value) return "—";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  return d.toLocaleString("en-GB", { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

export function isoDate(d = new Date()) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function addDays(d, days) { const c = new Date(d); c.setDate(c.getDate() + days); return c; }

export function label(text) {
  return String(text || "").replace(/_/g, " ").replace(/^\w/, (c) => c.toUpperCase());
}

const TONES = {
  open: "info", won: "good", lost: "bad", active: "info", completed: "good", cancelled: "neutral", on_hold: "warn",
  draft: "neutral", issued: "info", partially_paid: "warn", paid: "good", overdue: "bad", void: "neutral",
  submitted: "info", approved: "good", rejected: "bad", new: "info", qualified: "good", converted: "good",
  disqualified: "neutral", planned: "neutral", invoiced: "good", pending: "neutral", reached: "info",
  sent: "info", accepted: "good", declined: "bad", superseded: "neutral",
};
export function badge(status) {
  return h("span", { class: `badge ${TONES[status] || "neutral"}` }, label(status));
}

// --- feedback --------------------------------------------------------------------------------------

export function errorBox(error, what) {
  if (error instanceof ApiError) {
    const heading = error.status === 403 ? "You are not allowed to do that."
      : error.status === 404 ? (what ? `${what} is not available.` : "Not found.")
        : error.status >= 500 ? "Something went wrong on the server; try again in a moment."
          : (error.problem.title || "The request was not accepted.");
    const detail = error.message && error.message !== heading ? error.message : "";
    const lines = error.lines;
    return h("div", { class: "error", role: "alert" }, h("strong", {}, heading), detail ? h("div", {}, detail) : null,
      lines.length ? h("ul", {}, lines.map((l) => h("li", {}, l))) : null,
      error.problem.request_id ? h("div", { class: "small" }, `Request id: ${error.problem.request_id}`) : null);
  }
  console.error(error);
  return h("div", { class: "error", role: "alert" }, h("strong", {}, "Something went wrong."), h("div", {}, String(error?.message || error)));
}

export function unavailable(what) {
  return h("p", { class: "notice" }, `${what} is not available on this server yet.`);
}

export function toast(message, tone = "") {
  const box = document.getElementById("toasts");
  const el = h("div", { class: `toast ${tone}` }, message);
  box.append(el);
  setTimeout(() => el.remove(), 5000);
}

export function announce(message) {
  const el = document.getElementById("announcer");
  if (el) { el.textContent = ""; setTimeout(() => { el.textContent = message; }, 30); }
}

// A modal form. build(form) adds the fields; submit(data, form) returns a promise; errors show inside.
export function formDialog({ title, submitLabel = "Save", build, submit, danger = false }) {
  return new Promise((resolve) => {
    const errors = h("div", { "aria-live": "assertive" });
    const body = h("div");
    const submitButton = h("button", { type: "submit", class: danger ? "danger" : "" }, submitLabel);
    const cancel = h("button", { type: "button", class: "secondary", onclick: () => close(null) }, "Cancel");
    const titleId = `dlg-${Math.random().toString(16).slice(2)}`;
    const form = h("form", { method: "dialog", novalidate: true },
      h("h2", { id: titleId }, title), body, errors, h("div", { class: "dialog-actions" }, cancel, submitButton));
    const dialog = h("dialog", { "aria-labelledby": titleId }, form);
    build(body, form);
    let done = false;
    function close(value) {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      resolve(value);
    }
    dialog.addEventListener("cancel", (e) => { e.preventDefault(); close(null); });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!form.reportValidity()) return;
      errors.replaceChildren();
      submitButton.disabled = true;
      try {
        close(await submit(Object.fromEntries(new FormData(form)), form));
      } catch (error) {
        errors.replaceChildren(errorBox(error));
        submitButton.disabled = false;
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    const first = body.querySelector("input, select, textarea");
    (first || submitButton).focus();
  });
}

// Yes or no, in a native dialog (keyboard and screen readers as every other dialog).
export function confirmDialog(question, confirmLabel = "Confirm", { danger = true } = {}) {
  return formDialog({ title: question, submitLabel: confirmLabel, danger, build: () => {}, submit: async () => true });
}

// A read-only value someone must copy (a link shown once, a key, a snippet), with a Copy button.
export function copyField(labelText, value, { multiline = false, id } = {}) {
  const control = multiline
    ? h("textarea", { readonly: true, rows: 12, class: "code", id, spellcheck: "false" }, value)
    : h("input", { readonly: true, value, class: "code", id, spellcheck: "false" });
  const button = h("button", { type: "button", class: "secondary", "aria-label": `Copy ${labelText.toLowerCase()}`, onclick: async () => {
    control.select();
    try { await navigator.clipboard.writeText(value); } catch { document.execCommand?.("copy"); }
    button.textContent = "Copied";
    announce(`${labelText} copied`);
  } }, "Copy");
  return h("div", { class: "copy-field" }, field(labelText, control), button);
}

// Runs an action from a button: disables it meanwhile, shows the error in `errorSlot` or as a toast.
export async function act(button, action, errorSlot) {
  if (button) button.disabled = true;
  errorSlot?.replaceChildren();
  try {
    return await action();
  } catch (error) {
    if (errorSlot) errorSlot.replaceChildren(errorBox(error));
    else toast(error.message || "That did not work.", "bad");
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

// A table from rows: columns = [{label, value: row => node|string, num?: bool}]
export function table(columns, rows, { caption, empty = "Nothing here yet.", rowAttrs } = {}) {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  // The wrapper scrolls sideways when the table is wider than the screen: it takes keyboard focus so that a
  // keyboard can scroll it too (axe: scrollable-region-focusable), and a name so that the focus says what it is.
  const name = caption || `Table: ${columns.map((c) => c.label).filter(Boolean).slice(0, 3).join(", ")}`;
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": name }, h("table", { class: "responsive" },
    caption ? h("caption", {}, caption) : null,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : "" }, c.label)))),
    h("tbody", {}, rows.map((row) => h("tr", rowAttrs ? rowAttrs(row) : {},
      columns.map((c) => h("td", { class: c.num ? "num" : "", "data-label": c.label }, c.value(row))))))));
}

// --- charts ----------------------------------------------------------------------------------------

export const PALETTE = ["#1d4ed8", "#067647", "#b54708", "#6941c6", "#c11574", "#0e7090"];

// A round tick step (1, 2, 2.5 or 5 times a power of ten) giving four or five gridlines.
function niceScale(value) {
  if (value <= 0) return { step: 1, ticks: 4 };
  const raw = value / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((c) => c >= raw);
  return { step, ticks: Math.max(1, Math.ceil(value / step - 1e-9)) };
}

function shortNumber(v) {
  const abs = Math.abs(v);
  if (abs >= 1e6) return `${(v / 1e6).toFixed(abs >= 1e7 ? 0 : 1)}M`;
  if (abs >= 1e3) return `${(v / 1e3).toFixed(abs >= 1e4 ? 0 : 1)}k`;
  return String(Math.round(v * 100) / 100);
}

// Grouped or stacked bar chart. series: [{name, values: number[], color?}]
export function barChart({ title, labels, series, stacked = false, unit = "", height = 240, width = 720 }) {
  const pad = { top: 16, right: 12, bottom: 42, left: 56 };
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const totals = labels.map((_, i) => (stacked
    ? series.reduce((sum, sr) => sum + Math.max(0, sr.values[i] || 0), 0)
    : Math.max(0, ...series.map((sr) => sr.values[i] || 0))));
  const scale = niceScale(Math.max(0, ...totals));
  const top = scale.step * scale.ticks;
  const y = (v) => pad.top + innerH - (v / top) * innerH;
  const band = innerW / Math.max(1, labels.length);
  const barW = stacked ? band * 0.6 : (band * 0.7) / Math.max(1, series.length);
  const titleId = `c-${Math.random().toString(16).slice(2)}`;
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": titleId });
  svg.append(s("title", { id: titleId }, title));
  for (let t = 0; t <= scale.ticks; t += 1) {
    const v = scale.step * t;
    svg.append(s("line", { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), stroke: "#d5dae2" }));
    svg.append(s("text", { x: pad.left - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#4b5565" }, shortNumber(v)));
  }
  labels.forEach((labelText, i) => {
    const x0 = pad.left + band * i;
    let stackBase = 0;
    series.forEach((sr, k) => {
      const v = Math.max(0, sr.values[i] || 0);
      const color = sr.color || PALETTE[k % PALETTE.length];
      let x; let yTop; let hgt;
      if (stacked) { x = x0 + (band - barW) / 2; yTop = y(stackBase + v); hgt = y(stackBase) - y(stackBase + v); stackBase += v; }
      else { x = x0 + (band - barW * series.length) / 2 + barW * k; yTop = y(v); hgt = y(0) - y(v); }
      if (hgt > 0) svg.append(s("rect", { x, y: yTop, width: Math.max(1, barW - 2), height: hgt, fill: color, rx: 2 },
        s("title", {}, `${labelText} · ${sr.name}: ${unit}${v.toLocaleString("en-US", { maximumFractionDigits: 2 })}`)));
    });
    svg.append(s("text", { x: x0 + band / 2, y: height - pad.bottom + 16, "text-anchor": "middle", "font-size": 11, fill: "#1a1f2b" },
      labels.length > 10 && i % 2 ? "" : labelText));
  });
  const legend = series.length > 1 || series[0]?.name
    ? h("div", { class: "legend" }, series.map((sr, k) => h("span", { style: `--c:${sr.color || PALETTE[k % PALETTE.length]}` }, sr.name)))
    : null;
  const data = h("details", {}, h("summary", {}, "Show the numbers"), h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, ""), series.map((sr) => h("th", { scope: "col", class: "num" }, sr.name || "Value")))),
    h("tbody", {}, labels.map((l, i) => h("tr", {}, h("th", { scope: "row" }, l),
      series.map((sr) => h("td", { class: "num" }, `${unit}${(sr.values[i] || 0).toLocaleString("en-US", { maximumFractionDigits: 2 })}`))))))));
  return h("figure", { class: "chart", style: "margin:0" }, svg, legend, data);
}

// Horizontal bars, one per row: rows = [{label, value, text, tone}]
export function barList(rows, { max } = {}) {
  const top = max || Math.max(1, ...rows.map((r) => Math.abs(r.value)));
  return h("div", { role: "list" }, rows.map((r) => h("div", { class: "bar-row", role: "listitem" },
    h("span", {}, r.label),
    h("div", { class: "bar-track", "aria-hidden": "true" }, h("div", { class: `bar-fill ${r.tone || ""}`, style: `width:${Math.min(100, (Math.abs(r.value) / top) * 100)}%` })),
    h("span", { class: "num" }, r.text))));
}
