// The gateway's public API, with the session (access + refresh token) and readable errors.

const STORE = "throughline.session";
const REFRESH_MARGIN_MS = 30_000;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `The server answered ${status}.`);
    this.status = status;
    this.problem = problem || {};
  }

  get notFound() { return this.status === 404; }

  // What a person can read: the problem's detail plus the field errors, if any.
  get lines() {
    const errors = this.problem.errors || this.problem.invalid_params || [];
    return errors.map((e) => {
      if (typeof e === "string") return e;
      const where = Array.isArray(e.loc) ? e.loc.filter((p) => p !== "body").join(".") : (e.name || e.field || "");
      return where ? `${where}: ${e.msg || e.reason || e.message}` : (e.msg || e.reason || e.message || JSON.stringify(e));
    });
  }
}

export const session = {
  get() {
    try { return JSON.parse(localStorage.getItem(STORE) || "null"); } catch { return null; }
  },
  save(tokens, me) {
    const previous = this.get() || {};
    const value = {
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token || previous.refresh_token,
      expires_at: Date.now() + (Number(tokens.expires_in) || 900) * 1000,
      me: me || previous.me || null,
    };
    localStorage.setItem(STORE, JSON.stringify(value));
    return value;
  },
  setMe(me) {
    const value = this.get();
    if (value) { value.me = me; localStorage.setItem(STORE, JSON.stringify(value)); }
  },
  clear() { localStorage.removeItem(STORE); },
};

// Whoever wants to know that the session ended (the app shows the login with a message).
export const sessionEvents = new EventTarget();

function expired(reason) {
  session.clear();
  sessionEvents.dispatchEvent(new CustomEvent("expired", { detail: reason }));
}

async function readProblem(response) {
  const type = response.headers.get("content-type") || "";
  if (type.includes("json")) {
    try { return await response.json(); } catch { /* fall through */ }
  }
  const text = await response.text().catch(() => "");
  const titles = { 404: "Not found", 502: "A service is unreachable", 503: "A service is unavailable", 504: "A service timed out" };
  return { title: titles[response.status] || `Error ${response.status}`, detail: text && text.length < 300 ? text : undefined };
}

export async function login(email, password) {
  const body = new URLSearchParams({ username: email, password });
  const response = await fetch("/api/auth/token", { method: "POST", body });
  if (!response.ok) throw new ApiError(response.status, await readProblem(response));
  const tokens = await response.json();
  session.save(tokens);
  const me = await api("/api/auth/me");
  session.setMe(me);
  return me;
}

export async function logout() {
  const current = session.get();
  session.clear();
  if (current?.refresh_token) {
    // Revoke the refresh token where the gateway supports it; a 404 here is fine.
    fetch("/api/auth/logout", {
      method: "POST", body: new URLSearchParams({ refresh_token: current.refresh_token }),
      headers: { Authorization: `Bearer ${current.access_token}` },
    }).catch(() => {});
  }
}

// Change one's own password. The gateway ends every session of the account, this one's too, and answers with new
// tokens for this one: they replace the session's (the caller pauses the live stream meanwhile, whose old token
// the gateway is about to refuse).
export async function changePassword(currentPassword, newPassword) {
  const token = await accessToken();
  if (!token) throw new ApiError(401, { title: "Not logged in", detail: "Please log in again." });
  const response = await fetch("/api/auth/password", {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ current_password: currentPassword, new_password: newPassword }),
  }).catch(() => null);
  if (!response) throw new ApiError(0, { title: "Network error", detail: "The server cannot be reached." });
  if (!response.ok) throw new ApiError(response.status, await readProblem(response));
  const saved = session.save(await response.json());
  if (saved.me) session.setMe({ ...saved.me, password_change_required: false });
}

let refreshing = null;

// One refresh at a time, however many requests (or tabs: a Web Lock spans them) notice the expiry together.
// Refresh tokens rotate and a reused one revokes the whole login, so a tab that finds the session already
// renewed by another tab (or by an earlier call) takes the new tokens instead of refreshing again.
// `usedToken` is the access token the caller found wanting.
export function refreshTokens(usedToken) {
  if (!refreshing) {
    const run = async () => {
      const current = session.get();
      if (!current?.refresh_token) { expired("Your session has ended. Please log in again."); return null; }
      if (current.access_token !== usedToken && current.expires_at - Date.now() > REFRESH_MARGIN_MS) return current;
      const response = await fetch("/api/auth/refresh", {
        method: "POST", body: new URLSearchParams({ refresh_token: current.refresh_token }),
      }).catch(() => null);
      if (!response) throw new ApiError(0, { title: "Network error", detail: "The server cannot be reached." });
      if (!response.ok) {
        expired("Your session has expired. Please log in again.");
        return null;
      }
      return session.save(await response.json());
    };
    const locked = navigator.locks ? navigator.locks.request("throughline-refresh", run) : run();
    refreshing = locked.finally(() => { refreshing = null; });
  }
  return refreshing;
}

export async function accessToken() {
  const current = session.get();
  if (!current) return null;
  if (current.expires_at - Date.now() < REFRESH_MARGIN_MS) {
    const renewed = await refreshTokens(current.access_token);
    return renewed?.access_token || null;
  }
  return current.access_token;
}

function newKey() {
  return (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`);
}

// api("/api/crm/deals", {query: {status: "open"}}); api(path, {method: "POST", json: {...}})
export async function api(path, { method = "GET", json, form, multipart, query, accept, raw = false } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  }
  const idempotencyKey = method === "POST" ? newKey() : null;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const token = await accessToken();
    if (!token) throw new ApiError(401, { title: "Not logged in", detail: "Please log in again." });
    const headers = { Authorization: `Bearer ${token}`, Accept: accept || "application/json" };
    if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
    let body;
    if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
    if (form !== undefined) body = new URLSearchParams(form);
    if (multipart !== undefined) body = multipart;
    let response;
    try {
      response = await fetch(url, { method, headers, body });
    } catch {
      throw new ApiError(0, { title: "Network error", detail: "The server cannot be reached. Check your connection and try again." });
    }
    if (response.status === 401 && attempt === 0) {
      const renewed = await refreshTokens(token);
      if (renewed) continue;
      throw new ApiError(401, { title: "Session expired", detail: "Your session has expired. Please log in again." });
    }
    if (!response.ok) throw new ApiError(response.status, await readProblem(response));
    if (raw) return response;
    if (response.status === 204) return null;
    const type = response.headers.get("content-type") || "";
    return type.includes("json") ? response.json() : response.text();
  }
  throw new ApiError(401, { title: "Session expired", detail: "Please log in again." });
}

// A list endpoint's items, whether it answers a page ({items, total}) or a bare array.
export function itemsOf(result) {
  if (Array.isArray(result)) return result;
  if (result && Array.isArray(result.items)) return result.items;
  return [];
}

// Every page of a list endpoint, up to `max` rows.
export async function all(path, query = {}, max = 1000) {
  const rows = [];
  let offset = 0;
  const limit = 200;
  while (rows.length < max) {
    const page = await api(path, { query: { ...query, limit, offset } });
    const items = itemsOf(page);
    rows.push(...items);
    if (Array.isArray(page) || items.length < limit || (page.total !== undefined && rows.length >= page.total)) break;
    offset += limit;
  }
  return rows;
}

// Null when the endpoint answers 404 (not there yet, or the record is gone), so screens can degrade.
export async function optional(promise) {
  try { return await promise; } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 405)) return null;
    throw error;
  }
}
