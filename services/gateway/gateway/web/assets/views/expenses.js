// Expenses: enter and submit your own, approve or reject others' (the ERP enforces the approval chain).

import { api, all, optional, itemsOf } from "../api.js";
import { h, field, select, money, date, badge, formDialog, confirmDialog, toast, table, act, isoDate, unavailable, label } from "../ui.js";
import { pageHead } from "./common.js";
import { exportPanel } from "./csv.js";

// The VAT rates a receipt may carry: the active tax rates the invoice line editor offers, less reverse charge, which
// the ERP refuses on an expense (a purchase whose VAT the company owes goes through a vendor bill). Every role that
// files expenses reads them (erp.work.read).
async function receiptRates() {
  const rates = await optional(all("/api/erp/tax-rates", { active: "true" }, 200));
  return (rates || []).filter((r) => r.category !== "reverse_charge");
}

// "EUR 7.98 (19 %)", or a dash for an expense without a rate.
function vatOf(expense) {
  if (!expense.tax_rate_id) return "—";
  return `${money(expense.tax_amount, expense.currency)} (${expense.tax_percent} %${expense.tax_category === "exempt" ? " exempt" : ""})`;
}

async function newExpenseDialog() {
  const [projects, costCenters, rates] = await Promise.all([
    optional(all("/api/erp/projects", { status: "active" }, 1000)).then((r) => r || []),
    optional(all("/api/erp/cost-centers", {}, 500)).then((r) => r || []),
    receiptRates(),
  ]);
  // The draft this dialog made: a retry (after attaching the receipt that was missing) updates and submits it
  // instead of entering the expense a second time.
  let draft = null;
  return formDialog({
    title: "New expense",
    submitLabel: "Submit for approval",
    build: (body) => body.append(
      h("div", { class: "row" },
        field("Amount", { name: "amount", required: true, inputmode: "decimal", pattern: "^\\d+(\\.\\d{1,4})?$" }),
        field("Currency", { name: "currency", required: true, value: "EUR", maxlength: 3, pattern: "^[A-Z]{3}$" }),
        field("Date", { name: "expense_date", type: "date", required: true, value: isoDate() })),
      field("VAT rate", select({ name: "tax_rate_id" }, [["", "No VAT"], ...rates.map((r) => [r.id, `${r.name} (${r.percent} %)`])], ""),
        "its VAT, in the price paid, is deducted as input tax"),
      field("Merchant", { name: "merchant", maxlength: 200 }),
      field("What for", h("textarea", { name: "description", maxlength: 2000 })),
      h("div", { class: "row" },
        field("Project", select({ name: "project_id" }, [["", "None"], ...projects.map((p) => [p.id, p.name])], "")),
        field("Cost center", select({ name: "cost_center_id" }, [["", "None"], ...costCenters.map((c) => [c.id, c.code ? `${c.code} ${c.name}` : c.name])], ""))),
      h("p", { class: "muted small" }, "Book it to a project, a cost center or both."),
      field("Receipt", { name: "receipt", type: "file", accept: "application/pdf,image/*" }, "PDF or image; needed above the receipt threshold"),
      h("div", { class: "field" }, h("input", { type: "checkbox", name: "billable", id: "expense-billable" }),
        h("label", { for: "expense-billable", class: "inline" }, "Billable to the client"))),
    submit: async (data) => {
      const fields = {
        amount: data.amount, currency: data.currency.toUpperCase(), expense_date: data.expense_date,
        merchant: data.merchant || null, description: data.description || null,
        project_id: data.project_id || null, cost_center_id: data.cost_center_id || null, billable: Boolean(data.billable),
        tax_rate_id: data.tax_rate_id || null,
      };
      if (draft) draft = await api(`/api/erp/expenses/${draft.id}`, { method: "PATCH", json: fields });
      else draft = await api("/api/erp/expenses", { method: "POST", json: Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null)) });
      if (data.receipt && data.receipt.size) await attachReceipt(draft, data.receipt);
      const submitted = await submitDraft(draft);
      toast(`Expense of ${money(submitted.amount, submitted.currency)} submitted${submitted.tax_rate_id ? ` (VAT ${money(submitted.tax_amount, submitted.currency)}, net ${money(submitted.net_amount, submitted.currency)})` : ""}.`);
      return submitted;
    },
  });
}

async function attachReceipt(expense, file) {
  const upload = new FormData();
  upload.append("file", file, file.name);
  await api(`/api/erp/expenses/${expense.id}/receipt`, { method: "POST", multipart: upload });
}

// Submitting may be refused (a receipt is missing): the draft is kept, and the dialog (or "Mine") submits it again.
async function submitDraft(expense) {
  try {
    return await api(`/api/erp/expenses/${expense.id}/submit`, { method: "POST" });
  } catch (error) {
    // The ERP's text names the API path to upload to; a person is told what to do on this screen instead.
    const receipt = String(error.problem?.type || "").endsWith("/receipt-required");
    const why = receipt ? `${error.message.split(":")[0]}. Choose the receipt's file and submit again.` : error.message;
    error.message = `The expense is saved as a draft but not submitted: ${why}`;
    throw error;
  }
}

// Finish a draft from the list: attach its receipt and submit it.
function completeDraftDialog(expense) {
  return formDialog({
    title: `Submit ${money(expense.amount, expense.currency)} at ${expense.merchant || "—"}`,
    submitLabel: "Submit for approval",
    build: (body) => body.append(
      h("p", { class: "muted" }, expense.has_receipt ? "A receipt is attached; a new file replaces it." : "No receipt is attached yet."),
      field("Receipt", { name: "receipt", type: "file", accept: "application/pdf,image/*" }, "PDF or image")),
    submit: async (data) => {
      if (data.receipt && data.receipt.size) await attachReceipt(expense, data.receipt);
      const submitted = await submitDraft(expense);
      toast("Expense submitted.");
      return submitted;
    },
  });
}

function rejectDialog(expense) {
  return formDialog({
    title: "Reject expense",
    submitLabel: "Reject",
    danger: true,
    build: (body) => body.append(h("p", {}, `${money(expense.amount, expense.currency)} at ${expense.merchant || "—"}`),
      field("Why", h("textarea", { name: "comment", required: true, maxlength: 2000 }), "the submitter sees it")),
    submit: async (data) => {
      const rejected = await api(`/api/erp/expenses/${expense.id}/reject`, { method: "POST", json: { comment: data.comment } });
      toast("Expense rejected.");
      return rejected;
    },
  });
}

export async function expensesView(root, ctx) {
  const approver = ctx.can("erp.expenses.approve");
  const scope = ctx.query.get("scope") || (approver ? "approve" : "mine");
  const query = scope === "approve" ? { status: "submitted" } : scope === "mine" ? { mine: "true" } : {};
  const page = await optional(api("/api/erp/expenses", { query: { ...query, limit: 100 } }));
  root.append(pageHead("Expenses", ctx.can("erp.expenses.create") && page !== null
    ? h("button", { type: "button", onclick: async () => { if (await newExpenseDialog()) ctx.refresh(); } }, "New expense") : null));
  if (page === null) { root.append(unavailable("Expenses")); return { events: ["expense."] }; }
  const scopes = [...(approver ? [["approve", "Awaiting approval"]] : []), ["mine", "Mine"], ["all", "All"]];
  const picker = select({ id: "expense-scope", onchange: (e) => ctx.navigate(`/expenses?scope=${e.target.value}`) }, scopes, scope);
  const errors = h("div", { "aria-live": "assertive" });
  const rows = itemsOf(page);
  root.append(h("div", { class: "filters" }, field("Show", picker)), errors,
    table([
      { label: "Date", value: (x) => date(x.expense_date) },
      { label: "Merchant", value: (x) => h("div", {}, x.merchant || "—", x.description ? h("div", { class: "small muted" }, x.description) : null) },
      { label: "By", value: (x) => x.submitter_name || x.submitter_email || x.submitted_by },
      { label: "Project", value: (x) => (x.project_id ? h("a", { href: `#/projects/${x.project_id}` }, "Project") : "—") },
      { label: "Amount", value: (x) => money(x.amount, x.currency), num: true },
      { label: "VAT", value: vatOf, num: true },
      { label: "Net", value: (x) => money(x.net_amount, x.currency), num: true },
      { label: "Status", value: (x) => h("span", {}, badge(x.status), x.required_approval && x.status === "submitted" ? h("div", { class: "small muted" }, `needs ${label(x.required_approval)}`) : null) },
      { label: "", value: (x) => (approver && x.status === "submitted" && x.submitted_by !== ctx.me.id ? h("div", { class: "actions" },
        h("button", { type: "button", "aria-label": `Approve ${money(x.amount, x.currency)} at ${x.merchant || "unknown merchant"}`, onclick: (e) => act(e.currentTarget, async () => {
          await api(`/api/erp/expenses/${x.id}/approve`, { method: "POST" });
          toast("Expense approved.");
          ctx.refresh();
        }, errors) }, "Approve"),
        h("button", { type: "button", class: "secondary", "aria-label": `Reject ${money(x.amount, x.currency)} at ${x.merchant || "unknown merchant"}`, onclick: async () => { if (await rejectDialog(x)) ctx.refresh(); } }, "Reject"))
        : (["draft", "rejected"].includes(x.status) && x.submitted_by === ctx.me.id
          ? h("div", { class: "actions" },
            h("button", { type: "button", class: "secondary", "aria-label": `Submit ${money(x.amount, x.currency)} at ${x.merchant || "unknown merchant"}`,
              onclick: async () => { if (await completeDraftDialog(x)) ctx.refresh(); } }, "Submit"),
            x.status === "draft" ? h("button", { type: "button", class: "secondary danger-text", "aria-label": `Delete the draft of ${money(x.amount, x.currency)} at ${x.merchant || "unknown merchant"}`,
              onclick: (e) => act(e.currentTarget, async () => {
                if (!(await confirmDialog("Delete this draft expense?", "Delete draft"))) return;
                await api(`/api/erp/expenses/${x.id}`, { method: "DELETE" });
                toast("Draft deleted.");
                ctx.refresh();
              }, errors) }, "Delete") : null) : "")) },
    ], rows, { empty: scope === "approve" ? "Nothing is waiting for your approval." : "No expenses yet." }));
  root.append(exportPanel([["expenses", "expenses"]]));
  return { events: ["expense."] };
}
