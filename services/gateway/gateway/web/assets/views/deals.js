// Sales: the pipeline board (drag a deal between stages, win, lose) and the deal page.

import { api, all, optional, itemsOf, ApiError } from "../api.js";
import { filterBar, apiQuery } from "./filters.js";
import { h, field, select, money, moneyByCurrency, addTo, date, dateTime, badge, formDialog, toast, act, announce } from "../ui.js";
import { companyNames, pipelines, stageIndex, pageHead, winDialog, loseDialog, describeBilling, timeline, followUpForms,
  billingFields, billingFromForm, colleagues, personName, personSelect, DATE_BOUNDS } from "./common.js";
import { composeButton } from "./mail.js";
import { quotesPanel } from "./quotes.js";

// Change an open deal: title, amount, currency, expected close, owner, contact, billing terms.
async function editDealDialog(deal) {
  const [people, contacts] = await Promise.all([
    colleagues(), optional(all("/api/crm/contacts", { company_id: deal.company_id }, 500)).then((r) => r || []),
  ]);
  return formDialog({
    title: `Edit “${deal.title}”`,
    submitLabel: "Save deal",
    build: (body) => {
      const amount = h("input", { name: "amount", required: true, inputmode: "decimal", pattern: "^\\d+(\\.\\d{1,4})?$", value: deal.amount });
      body.append(
        field("Title", { name: "title", required: true, maxlength: 200, value: deal.title }),
        h("div", { class: "row" },
          field("Amount", amount),
          field("Currency", { name: "currency", required: true, maxlength: 3, pattern: "^[A-Z]{3}$", value: deal.currency }),
          field("Expected close", { name: "expected_close_date", type: "date", value: deal.expected_close_date || "", ...DATE_BOUNDS })),
        h("div", { class: "row" },
          field("Owner", personSelect({ name: "owner_id" }, people, deal.owner_id, { none: "Nobody" })),
          field("Contact", select({ name: "contact_id" }, [["", "No contact"], ...contacts.map((c) => [c.id, c.full_name])], deal.contact_id || ""))));
      billingFields(body, deal, { keep: true, amountInput: amount });
    },
    submit: async (data) => {
      const body = {};
      if (data.title !== deal.title) body.title = data.title;
      if (Number(data.amount) !== Number(deal.amount)) body.amount = data.amount;
      if (data.currency.toUpperCase() !== deal.currency) body.currency = data.currency.toUpperCase();
      if ((data.expected_close_date || null) !== (deal.expected_close_date || null)) body.expected_close_date = data.expected_close_date || null;
      if ((data.owner_id || null) !== (deal.owner_id || null)) body.owner_id = data.owner_id || null;
      if ((data.contact_id || null) !== (deal.contact_id || null)) body.contact_id = data.contact_id || null;
      const billing = billingFromForm(data);
      if (billing) body.billing = billing;
      const saved = Object.keys(body).length ? await api(`/api/crm/deals/${deal.id}`, { method: "PATCH", json: body }) : deal;
      toast("Deal saved.");
      return saved;
    },
  });
}

export async function newDealDialog(ctx, companyId) {
  const companies = await all("/api/crm/companies", {}, 2000);
  return formDialog({
    title: "New deal",
    submitLabel: "Create deal",
    build: (body) => {
      if (!companies.length) body.append(h("p", { class: "notice" }, "Create a company first."));
      body.append(
        field("Title", { name: "title", required: true, maxlength: 200 }),
        field("Company", select({ name: "company_id", required: true },
          companies.map((c) => [c.id, c.name]).sort((a, b) => a[1].localeCompare(b[1])), companyId)),
        h("div", { class: "row" },
          field("Amount", { name: "amount", required: true, inputmode: "decimal", pattern: "^\\d+(\\.\\d{1,4})?$" }),
          field("Currency", { name: "currency", required: true, value: "EUR", maxlength: 3, pattern: "^[A-Z]{3}$" })),
        field("Expected close", { name: "expected_close_date", type: "date", ...DATE_BOUNDS }));
    },
    submit: async (data) => {
      const deal = await api("/api/crm/deals", { method: "POST", json: {
        title: data.title, company_id: data.company_id, amount: data.amount, currency: data.currency.toUpperCase(),
        owner_id: ctx.me.id, ...(data.expected_close_date ? { expected_close_date: data.expected_close_date } : {}),
      } });
      toast(`Deal “${deal.title}” created.`);
      return deal;
    },
  });
}

function boardFilters(names) {
  return [
    { key: "owner", label: "Owner", kind: "owner" },
    { key: "company", label: "Company", kind: "select", options: [["", "Any company"], ...Object.entries(names).sort((a, b) => a[1].localeCompare(b[1]))] },
    { key: "amount_min", label: "Amount from", kind: "amount" },
    { key: "amount_max", label: "Amount to", kind: "amount" },
    { key: "close_from", label: "Closes from", kind: "date" },
    { key: "close_to", label: "Closes by", kind: "date" },
  ];
}

export async function pipelineView(root, ctx) {
  const [pipelineList, names] = await Promise.all([pipelines(), companyNames()]);
  const chosenId = ctx.query.get("pipeline");
  const filters = await filterBar(ctx, { list: "pipeline", path: "/pipeline", fields: boardFilters(names),
    base: chosenId ? { pipeline: chosenId } : {} });
  const deals = await all("/api/crm/deals", { status: "open", sort: "updated_at", order: "desc",
    ...apiQuery(ctx, filters.values, { company: "company_id" }) }, 1000);
  const pipeline = pipelineList.find((p) => p.id === chosenId) || pipelineList.find((p) => p.is_default) || pipelineList[0];
  if (!pipeline) {
    root.append(pageHead("Pipeline"), h("p", { class: "empty" }, "No pipeline is set up yet."));
    return { events: ["deal.", "company."] };
  }
  const writer = ctx.can("crm.deals.write");
  const errors = h("div", { "aria-live": "assertive" });
  const openStages = pipeline.stages.filter((st) => st.kind === "open");
  const dealsHere = deals.filter((d) => d.pipeline_id === pipeline.id);
  const byId = Object.fromEntries(dealsHere.map((d) => [d.id, d]));

  async function moveTo(deal, stage) {
    if (stage.id === deal.stage_id) return;
    if (stage.kind === "won") { if (await winDialog(deal)) ctx.refresh(); return; }
    if (stage.kind === "lost") { if (await loseDialog(deal)) ctx.refresh(); return; }
    await act(null, async () => {
      await api(`/api/crm/deals/${deal.id}/stage`, { method: "POST", json: { stage_id: stage.id } });
      announce(`${deal.title} moved to ${stage.name}`);
      toast(`“${deal.title}” moved to ${stage.name}.`);
      ctx.refresh();
    }, errors);
  }

  function card(deal) {
    const moveSelect = select({ "aria-label": `Move ${deal.title} to stage` },
      openStages.map((st) => [st.id, st.name]), deal.stage_id);
    moveSelect.addEventListener("change", () => {
      const stage = openStages.find((st) => st.id === moveSelect.value);
      if (stage) moveTo(deal, stage);
    });
    const el = h("article", { class: "deal-card", draggable: writer ? "true" : "false", dataset: { dealId: deal.id },
      "aria-label": `${deal.title}, ${money(deal.amount, deal.currency)}` },
      h("h3", {}, h("a", { href: `#/deals/${deal.id}` }, deal.title)),
      h("div", { class: "meta" }, h("span", {}, names[deal.company_id] || "—"), h("strong", {}, money(deal.amount, deal.currency))),
      deal.expected_close_date ? h("div", { class: "meta" }, h("span", {}, `Closes ${date(deal.expected_close_date)}`)) : null,
      writer ? h("div", { class: "card-actions" }, moveSelect,
        h("button", { type: "button", onclick: () => moveTo(deal, pipeline.stages.find((st) => st.kind === "won")) }, "Win"),
        h("button", { type: "button", class: "secondary", onclick: () => moveTo(deal, pipeline.stages.find((st) => st.kind === "lost")) }, "Lose"))
        : null);
    // A drag belongs to the card the pointer went down on. While a button is held on the board, live updates wait
    // (app.js), so cards are not re-sorted under the pointer; and a card that did not see the press (it replaced
    // the pressed one) refuses the drag rather than moving a deal nobody picked up.
    el.addEventListener("pointerdown", () => { el.dataset.pressed = "true"; document.body.dataset.pressing = "board"; });
    el.addEventListener("dragstart", (e) => {
      if (!el.dataset.pressed) { e.preventDefault(); return; }
      e.dataTransfer.setData("text/plain", deal.id); e.dataTransfer.effectAllowed = "move"; el.classList.add("dragging");
    });
    el.addEventListener("dragend", () => { el.classList.remove("dragging"); delete el.dataset.pressed; delete document.body.dataset.pressing; });
    return el;
  }

  const board = h("div", { class: "board", role: "list", "aria-label": `${pipeline.name} stages` });
  for (const stage of pipeline.stages) {
    const inStage = stage.kind === "open" ? dealsHere.filter((d) => d.stage_id === stage.id) : [];
    const totals = {};
    for (const d of inStage) addTo(totals, d.currency, d.amount);
    const column = h("section", { class: `column ${stage.kind}`, role: "listitem", dataset: { stageId: stage.id, stageName: stage.name },
      "aria-labelledby": `stage-${stage.id}` },
      h("header", {}, h("h2", { id: `stage-${stage.id}` }, stage.name),
        h("span", { class: "sum" }, stage.kind === "open" ? `${inStage.length} · ${Number(stage.probability)}%` : "")),
      stage.kind === "open" ? h("div", { class: "sum small muted" }, moneyByCurrency(totals, "")) : null,
      inStage.map(card),
      stage.kind === "won" ? h("p", { class: "hint" }, writer ? "Drop a deal here to win it." : "Won deals leave the board.") : null,
      stage.kind === "lost" ? h("p", { class: "hint" }, writer ? "Drop a deal here to lose it." : "Lost deals leave the board.") : null);
    if (writer) {
      column.addEventListener("dragover", (e) => { e.preventDefault(); e.dataTransfer.dropEffect = "move"; column.classList.add("drop-target"); });
      column.addEventListener("dragleave", () => column.classList.remove("drop-target"));
      column.addEventListener("drop", (e) => {
        e.preventDefault();
        column.classList.remove("drop-target");
        const deal = byId[e.dataTransfer.getData("text/plain")];
        if (deal) moveTo(deal, stage);
      });
    }
    board.append(column);
  }

  const weighted = {};
  for (const d of dealsHere) {
    const stage = pipeline.stages.find((st) => st.id === d.stage_id);
    addTo(weighted, d.currency, (Number(d.amount) * Number(stage?.probability || 0)) / 100);
  }
  const picker = pipelineList.length > 1 ? field("Pipeline", select({ onchange: (e) => ctx.navigate(`/pipeline?pipeline=${e.target.value}`) },
    pipelineList.map((p) => [p.id, p.name]), pipeline.id)) : null;
  root.append(
    pageHead("Pipeline", picker, writer ? h("button", { type: "button", onclick: async () => { if (await newDealDialog(ctx)) ctx.refresh(); } }, "New deal") : null),
    filters.element,
    h("p", { class: "muted", id: "board-summary" }, `${dealsHere.length} open deals${Object.keys(filters.values).length ? " match the filters" : ""} · weighted ${moneyByCurrency(weighted, "0")}. `,
      writer ? "Drag a card to another stage, or use its stage menu and buttons." : "Read-only: your role cannot change deals."),
    errors, board);
  return { events: ["deal.", "company."] };
}

export async function dealView(root, ctx) {
  const [id] = ctx.params;
  let deal;
  try {
    deal = await api(`/api/crm/deals/${id}`);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 422)) {
      root.append(pageHead("Deal not found"), h("p", {}, "This deal does not exist (or was removed). ", h("a", { href: "#/pipeline" }, "Back to the pipeline.")));
      return { events: [] };
    }
    throw error;
  }
  const [company, stages, projects, events, people, quotes] = await Promise.all([
    optional(api(`/api/crm/companies/${deal.company_id}`)),
    pipelines().then(stageIndex),
    optional(api("/api/erp/projects", { query: { deal_id: deal.id } })),
    timeline({ deal_id: deal.id }),
    colleagues(),
    quotesPanel(ctx, deal, null),
  ]);
  const stage = stages[deal.stage_id];
  const errors = h("div", { "aria-live": "assertive" });
  const writer = ctx.can("crm.deals.write");
  const project = itemsOf(projects)[0];
  const actions = [];
  if (writer && deal.status === "open") {
    actions.push(h("button", { type: "button", class: "secondary", onclick: async () => { if (await editDealDialog(deal)) ctx.refresh(); } }, "Edit"));
    actions.push(h("button", { type: "button", onclick: async () => { if (await winDialog(deal)) ctx.refresh(); } }, "Win"));
    actions.push(h("button", { type: "button", class: "secondary", onclick: async () => { if (await loseDialog(deal)) ctx.refresh(); } }, "Lose"));
  }
  const projectBox = deal.status === "won"
    ? (project
      ? h("p", { id: "deal-project" }, "Project: ", h("a", { href: `#/projects/${project.id}` }, project.name), " ", badge(project.status))
      : h("p", { id: "deal-project", class: "notice" }, projects === null ? "Projects are not available on this server." : "The ERP is creating the project…"))
    : null;
  root.append(
    pageHead(deal.title, ...actions),
    errors,
    h("div", { class: "grid-2" },
      h("section", { class: "panel", "aria-labelledby": "deal-facts" }, h("h2", { id: "deal-facts" }, "Deal"),
        h("dl", { class: "facts" },
          h("dt", {}, "Status"), h("dd", { id: "deal-status" }, badge(deal.status)),
          h("dt", {}, "Company"), h("dd", {}, company ? h("a", { href: `#/companies/${company.id}` }, company.name) : "—"),
          h("dt", {}, "Amount"), h("dd", { id: "deal-amount" }, money(deal.amount, deal.currency)),
          h("dt", {}, "Stage"), h("dd", {}, stage ? `${stage.name} (${Number(stage.probability)}%)` : "—"),
          h("dt", {}, "Expected close"), h("dd", { id: "deal-close" }, date(deal.expected_close_date)),
          h("dt", {}, "Owner"), h("dd", { id: "deal-owner" }, personName(people, deal.owner_id)),
          h("dt", {}, "Billing"), h("dd", {}, describeBilling(deal.billing)),
          deal.won_at ? [h("dt", {}, "Won"), h("dd", {}, dateTime(deal.won_at))] : null,
          deal.lost_at ? [h("dt", {}, "Lost"), h("dd", {}, `${dateTime(deal.lost_at)}: ${deal.lost_reason || ""}`)] : null),
        projectBox),
      h("section", { class: "panel", "aria-labelledby": "deal-timeline" },
        h("div", { class: "page-head" }, h("h2", { id: "deal-timeline" }, "Timeline"),
          h("div", { class: "actions" }, composeButton(ctx, { deal_id: deal.id }), followUpForms(ctx, { deal_id: deal.id, company_id: deal.company_id }))),
        events)),
    quotes);
  return { events: ["deal.", "project.", "invoice.", "payment.", "task.", "activity.", "mail.", "quote."] };
}

