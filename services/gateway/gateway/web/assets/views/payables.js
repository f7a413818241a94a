// Accounts payable: vendors, their bills (enter, submit, approve through the expenses' chain, pay) and AP aging.

import { api, all, ApiError } from "../api.js";
import { h, field, select, money, date, badge, formDialog, toast, table, act, isoDate, label } from "../ui.js";
import { pageHead } from "./common.js";

const BILL_STATUSES = ["draft", "submitted", "approved", "rejected", "partly_paid", "paid"];
const AGING = [["not_due", "Not yet due"], ["days_0_30", "0–30 days"], ["days_31_60", "31–60 days"],
  ["days_61_90", "61–90 days"], ["days_90_plus", "Over 90 days"]];

function payablesNav(current) {
  const links = [["/bills", "Bills"], ["/vendors", "Vendors"], ["/ap-aging", "AP aging"]];
  return h("nav", { class: "tabs", "aria-label": "Payables" }, links.map(([path, text]) =>
    h("a", { href: `#${path}`, "aria-current": path === current ? "page" : null }, text)));
}

// --- vendors -------------------------------------------------------------------------------------

function vendorDialog(vendor) {
  const v = vendor || {};
  return formDialog({
    title: vendor ? `Change ${vendor.name}` : "New vendor",
    build: (body) => body.append(
      field("Name", { name: "name", required: true, maxlength: 200, value: v.name || "" }),
      field("Address", h("textarea", { name: "address", rows: 2, maxlength: 2000 }, v.address || "")),
      h("div", { class: "row" },
        field("Country", { name: "country", maxlength: 2, value: v.country || "", placeholder: "DE" }, "ISO code"),
        field("VAT ID", { name: "vat_id", maxlength: 30, value: v.vat_id || "", placeholder: "DE136695976" }, "with its country prefix")),
      h("div", { class: "row" },
        field("IBAN", { name: "iban", maxlength: 50, value: v.iban || "", autocomplete: "off" }),
        field("Email", { name: "email", type: "email", maxlength: 320, value: v.email || "" })),
      h("div", { class: "row" },
        field("Currency", { name: "currency", required: true, maxlength: 3, pattern: "^[A-Za-z]{3}$", value: v.currency || "EUR" }),
        field("Payment terms (days)", { name: "payment_terms_days", type: "number", min: 0, max: 365, required: true, value: v.payment_terms_days ?? 30 }))),
    submit: async (data) => {
      const body = {
        name: data.name.trim(), address: data.address.trim() || null, country: data.country.trim().toUpperCase() || null,
        vat_id: data.vat_id.trim() || null, iban: data.iban.trim() || null, email: data.email.trim() || null,
        currency: data.currency.trim().toUpperCase(), payment_terms_days: Number(data.payment_terms_days),
      };
      const saved = vendor
        ? await api(`/api/erp/vendors/${vendor.id}`, { method: "PATCH", json: body })
        : await api("/api/erp/vendors", { method: "POST", json: body });
      toast(`Vendor ${saved.name} saved.`);
      return saved;
    },
  });
}

export async function vendorsView(root, ctx) {
  const writer = ctx.can("erp.vendors.write");
  const vendors = await all("/api/erp/vendors", {}, 2000);
  const errors = h("div", { "aria-live": "assertive" });
  root.append(pageHead("Vendors", writer ? h("button", { type: "button", onclick: async () => { if (await vendorDialog()) ctx.refresh(); } }, "New vendor") : null),
    payablesNav("/vendors"), errors,
    table([
      { label: "Name", value: (v) => h("div", {}, v.name, v.address ? h("div", { class: "small muted" }, v.address) : null) },
      { label: "VAT ID", value: (v) => v.vat_id || "—" },
      { label: "IBAN", value: (v) => v.iban || "—" },
      { label: "Currency", value: (v) => v.currency },
      { label: "Terms", value: (v) => `${v.payment_terms_days} days`, num: true },
      { label: "Status", value: (v) => badge(v.active ? "active" : "inactive") },
      { label: "", value: (v) => (writer ? h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary", "aria-label": `Change ${v.name}`, onclick: async () => { if (await vendorDialog(v)) ctx.refresh(); } }, "Change"),
        h("button", { type: "button", class: "secondary", "aria-label": `${v.active ? "Deactivate" : "Activate"} ${v.name}`,
          onclick: (e) => act(e.currentTarget, async () => {
            await api(`/api/erp/vendors/${v.id}`, { method: "PATCH", json: { active: !v.active } });
            ctx.refresh();
          }, errors) }, v.active ? "Deactivate" : "Activate")) : "") },
    ], vendors, { empty: "No vendors yet." }));
  return {};
}

// --- bills ---------------------------------------------------------------------------------------

function lineRow(rates, index) {
  return h("fieldset", { class: "bill-line", "aria-label": `Line ${index + 1}` },
    h("div", { class: "row" },
      field("Description", { name: "description", required: true, maxlength: 500 }),
      field("Quantity", { name: "quantity", required: true, value: "1", inputmode: "decimal", pattern: "^\\d+(\\.\\d{1,4})?$" }),
      field("Unit price", { name: "unit_price", required: true, inputmode: "decimal", pattern: "^\\d+(\\.\\d{1,4})?$" }),
      field("Tax rate", select({ name: "tax_rate_id" }, [["", "Default rate"], ...rates.map((r) => [r.id, `${r.name} (${r.percent} %)`])], ""))));
}

async function newBillDialog() {
  const [vendors, rates] = await Promise.all([all("/api/erp/vendors", { active: "true" }, 2000),
    all("/api/erp/tax-rates", { active: "true" }, 200)]);
  const lines = h("div", { class: "bill-lines" });
  return formDialog({
    title: "New bill",
    submitLabel: "Save draft",
    build: (body) => {
      lines.append(lineRow(rates, 0));
      body.append(
        field("Vendor", select({ name: "vendor_id", required: true }, [["", "Choose a vendor"], ...vendors.map((v) => [v.id, `${v.name} (${v.currency})`])], "")),
        h("div", { class: "row" },
          field("Vendor's invoice number", { name: "vendor_reference", required: true, maxlength: 100 }),
          field("Bill date", { name: "bill_date", type: "date", required: true, value: isoDate() }),
          field("Due date", { name: "due_date", type: "date" }, "empty: the vendor's terms")),
        field("Currency", { name: "currency", maxlength: 3, pattern: "^[A-Za-z]{3}$" }, "empty: the vendor's; another one needs the day's exchange rate"),
        h("h3", {}, "Lines"), lines,
        h("button", { type: "button", class: "secondary", onclick: () => lines.append(lineRow(rates, lines.children.length)) }, "Add line"),
        field("Notes", h("textarea", { name: "notes", rows: 2, maxlength: 2000 })));
    },
    submit: async (data) => {
      const body = {
        vendor_id: data.vendor_id, vendor_reference: data.vendor_reference.trim(), bill_date: data.bill_date,
        lines: [...lines.querySelectorAll("fieldset")].map((set) => {
          const value = (name) => set.querySelector(`[name=${name}]`).value.trim();
          const line = { description: value("description"), quantity: value("quantity"), unit_price: value("unit_price") };
          if (value("tax_rate_id")) line.tax_rate_id = value("tax_rate_id");
          return line;
        }),
      };
      if (data.due_date) body.due_date = data.due_date;
      if (data.currency.trim()) body.currency = data.currency.trim().toUpperCase();
      if (data.notes.trim()) body.notes = data.notes.trim();
      const bill = await api("/api/erp/bills", { method: "POST", json: body });
      toast(`Bill ${bill.vendor_reference} saved as a draft.`);
      return bill;
    },
  });
}

function payDialog(bill) {
  return formDialog({
    title: `Pay ${bill.vendor_name} ${bill.vendor_reference}`,
    submitLabel: "Record payment",
    build: (body) => body.append(
      h("p", {}, `Still owed: ${money(bill.balance_due, bill.currency)}`),
      h("div", { class: "row" },
        field(`Amount (${bill.currency})`, { name: "amount", required: true, value: bill.balance_due, inputmode: "decimal", pattern: "^\\d+(\\.\\d{1,4})?$" }),
        field("Paid on", { name: "paid_on", type: "date", required: true, value: isoDate() })),
      field("Reference", { name: "reference", maxlength: 200 })),
    submit: async (data) => {
      const payment = await api(`/api/erp/bills/${bill.id}/payments`, { method: "POST",
        json: { amount: data.amount, paid_on: data.paid_on, reference: data.reference.trim() || null } });
      toast(`Payment of ${money(payment.amount, payment.currency)} recorded.`);
      return payment;
    },
  });
}

function rejectDialog(bill) {
  return formDialog({
    title: `Reject ${bill.vendor_name} ${bill.vendor_reference}`,
    submitLabel: "Reject",
    danger: true,
    build: (body) => body.append(field("Why", h("textarea", { name: "comment", required: true, maxlength: 2000 }), "whoever entered it sees it")),
    submit: async (data) => api(`/api/erp/bills/${bill.id}/reject`, { method: "POST", json: { comment: data.comment } }),
  });
}

function billActions(bill, ctx, errors) {
  const name = `${bill.vendor_name} ${bill.vendor_reference}`;
  const post = (path, message) => (e) => act(e.currentTarget, async () => {
    await api(`/api/erp/bills/${bill.id}/${path}`, { method: "POST" });
    toast(message);
    ctx.refresh();
  }, errors);
  const buttons = [];
  if (["draft", "rejected"].includes(bill.status) && ctx.can("erp.bills.write")) {
    buttons.push(h("button", { type: "button", class: "secondary", "aria-label": `Submit ${name}`, onclick: post("submit", "Bill submitted for approval.") }, "Submit"));
  }
  if (bill.status === "submitted" && ctx.can("erp.expenses.approve") && bill.entered_by !== ctx.me.id) {
    buttons.push(h("button", { type: "button", "aria-label": `Approve ${name}`, onclick: post("approve", "Bill approved.") }, "Approve"),
      h("button", { type: "button", class: "secondary", "aria-label": `Reject ${name}`, onclick: async () => { if (await rejectDialog(bill)) ctx.refresh(); } }, "Reject"));
  }
  if (["approved", "partly_paid"].includes(bill.status) && ctx.can("erp.bills.pay")) {
    buttons.push(h("button", { type: "button", "aria-label": `Pay ${name}`, onclick: async () => { if (await payDialog(bill)) ctx.refresh(); } }, "Pay"));
  }
  return buttons.length ? h("div", { class: "actions" }, buttons) : "";
}

export async function billsView(root, ctx) {
  const status = ctx.query.get("status") || "";
  const page = await api("/api/erp/bills", { query: { status, limit: 500 } });
  const errors = h("div", { "aria-live": "assertive" });
  const picker = select({ id: "bill-status", onchange: (e) => ctx.navigate(e.target.value ? `/bills?status=${e.target.value}` : "/bills") },
    [["", "All"], ...BILL_STATUSES.map((s) => [s, label(s)])], status);
  root.append(pageHead("Bills", ctx.can("erp.bills.write")
    ? h("button", { type: "button", onclick: async () => { if (await newBillDialog()) ctx.refresh(); } }, "New bill") : null),
  payablesNav("/bills"), h("div", { class: "filters" }, field("Status", picker)), errors,
  table([
    { label: "Vendor", value: (b) => h("div", {}, b.vendor_name, h("div", { class: "small muted" }, b.vendor_reference)) },
    { label: "Bill date", value: (b) => date(b.bill_date) },
    { label: "Due", value: (b) => date(b.due_date) },
    { label: "Total", value: (b) => money(b.total, b.currency), num: true },
    { label: "Owed", value: (b) => money(b.balance_due, b.currency), num: true },
    { label: "Status", value: (b) => h("span", {}, badge(b.status), b.status === "submitted" && b.required_approval ? h("div", { class: "small muted" }, `needs ${label(b.required_approval)}`) : null) },
    { label: "", value: (b) => billActions(b, ctx, errors) },
  ], page.items, { empty: status ? `No ${label(status).toLowerCase()} bills.` : "No bills yet." }));
  return {};
}

// --- AP aging -------------------------------------------------------------------------------------

export async function apAgingView(root, ctx) {
  const asOf = ctx.query.get("as_of") || isoDate();
  let report;
  try {
    report = await api("/api/erp/reports/ap-aging", { query: { as_of: asOf } });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 422) throw error;
    root.append(pageHead("AP aging"), payablesNav("/ap-aging"), h("p", { class: "notice" }, error.message));
    return {};
  }
  const day = h("input", { type: "date", id: "ap-as-of", value: asOf, onchange: (e) => ctx.navigate(`/ap-aging?as_of=${e.target.value}`) });
  const amounts = () => AGING.map(([key, text]) => ({ label: text, value: (r) => money(r[key], r.currency), num: true }));
  root.append(pageHead("AP aging"), payablesNav("/ap-aging"),
    h("p", { class: "muted" }, "What approved vendor bills still owe, by days past their due date."),
    h("div", { class: "filters" }, field("As of", day)),
    table([{ label: "Vendor", value: (r) => r.vendor_name }, ...amounts(),
      { label: "Total", value: (r) => money(r.total, r.currency), num: true }, { label: "Bills", value: (r) => r.bills, num: true }],
    report.items, { caption: `Payables as of ${date(report.as_of)}`, empty: "Nothing is owed to vendors." }),
    report.totals.length ? table([{ label: "Currency", value: (r) => r.currency }, ...amounts(),
      { label: "Total", value: (r) => money(r.total, r.currency), num: true }], report.totals, { caption: "Totals per currency" }) : null);
  return {};
}
