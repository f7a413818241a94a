// Search results (#/search?q=...): GET /api/search, grouped by type, each hit a link to its page. Only the types
// the role may read come back (the gateway's policy); the header's search box on every screen leads here.

import { api } from "../api.js";
import { h, errorBox } from "../ui.js";

const GROUPS = [
  ["company", "Companies"], ["contact", "Contacts"], ["deal", "Deals"], ["lead", "Leads"],
  ["project", "Projects"], ["invoice", "Invoices"],
];

export async function searchView(root, ctx) {
  const q = (ctx.query.get("q") || "").trim();
  root.append(h("div", { class: "page-head" }, h("h1", {}, q ? `Search: ${q}` : "Search")));
  if (!q) {
    root.append(h("p", { class: "muted" }, "Type a name, an email, a deal or project title or an invoice number into the search box at the top (press / to get there)."));
    return {};
  }
  let result;
  try {
    result = await api("/api/search", { query: { q, limit: 10 } });
  } catch (error) {
    root.append(errorBox(error, "The search"));
    return {};
  }
  if (result.partial) {
    root.append(h("p", { class: "notice", role: "status" }, "Some results are missing: ",
      result.warnings.map((w) => `${w.upstream.toUpperCase()} did not answer (${w.detail})`).join("; "), "."));
  }
  const hits = result.hits || [];
  root.append(h("p", { class: "muted", role: "status", id: "search-summary" },
    hits.length ? `${hits.length} result${hits.length === 1 ? "" : "s"}, best first in each group.` : `Nothing found for “${q}”.`));
  if (hits.length) {
    const best = hits[0];
    root.append(h("p", {}, "Best match: ", h("a", { href: best.link, id: "search-best" }, best.title || "(untitled)")));
  }
  for (const [type, title] of GROUPS) {
    const group = hits.filter((hit) => hit.type === type);
    if (!group.length) continue;
    const id = `search-${type}`;
    root.append(h("section", { class: "panel search-group", "aria-labelledby": id, dataset: { type } },
      h("h2", { id }, title, " ", h("span", { class: "badge info" }, String(group.length))),
      h("ul", { class: "search-hits" }, group.map((hit) => h("li", {},
        h("a", { href: hit.link }, hit.title || "(untitled)"),
        hit.subtitle ? h("span", { class: "small muted" }, ` ${hit.subtitle}`) : null)))));
  }
  return {};
}
