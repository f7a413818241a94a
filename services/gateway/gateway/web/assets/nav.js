// Which screens each role finds in the menu: a choice of focus (finance does not need the pipeline board in its
// way), not a permission. Who may do what comes from the server: GET /api/auth/me lists the caller's actions,
// from the services' own policy tables, and `can(me, action)` reads that list. A member (staff) finds only their own
// work: home, their timesheet, the projects they work on, their expenses, and the people directory.

const ALL = ["admin", "sales", "finance", "project_manager", "member", "viewer"];

export function can(me, action) {
  return Boolean(me && me.actions && me.actions.includes(action));
}

export const NAV = [
  { path: "/", label: "Dashboard", roles: ALL },
  { path: "/pipeline", label: "Pipeline", roles: ["sales", "project_manager", "viewer"] },
  { path: "/companies", label: "Companies", roles: ["sales", "finance", "viewer"] },
  { path: "/contacts", label: "Contacts", roles: ["sales", "viewer"] },
  { path: "/leads", label: "Leads", roles: ["sales"] },
  { path: "/tasks", label: "My tasks", roles: ["sales"] },
  { path: "/sequences", label: "Sequences", roles: ["sales"] },
  { path: "/mail-templates", label: "Mail templates", roles: ["sales"] },
  { path: "/forecast", label: "Forecast", roles: ["sales", "viewer"] },
  { path: "/projects", label: "Projects", roles: ["finance", "project_manager", "member", "viewer"] },
  { path: "/planning", label: "Planning", roles: ["finance", "project_manager", "viewer"] },
  { path: "/invoices", label: "Invoices", roles: ["finance", "viewer"] },
  { path: "/bank", label: "Bank", roles: ["finance"] },
  { path: "/expenses", label: "Expenses", roles: ["sales", "finance", "project_manager", "member"] },
  { path: "/timesheet", label: "Timesheet", roles: ["member", "finance", "project_manager"] },
  { path: "/approvals", label: "Approvals", roles: ["project_manager"] },
  { path: "/people", label: "People", roles: ["finance", "project_manager", "member", "viewer"] },
  { path: "/bills", label: "Bills", roles: ["finance", "project_manager", "viewer"] }, // vendors and AP aging from there
  { path: "/cash-scenarios", label: "Cash forecast", roles: ["finance", "viewer"] }, // recurring items and rates too
  { path: "/reports", label: "Reports", roles: ["finance", "project_manager", "viewer"] },
  { path: "/efficiency", label: "Efficiency", roles: ["finance"] },
  { path: "/books", label: "Books", roles: ["finance", "viewer"] }, // erp.ledger.read: finance and viewer
  { path: "/settings", label: "Settings", roles: ["finance"] },
  { path: "/sent-mail", label: "Sent mail", roles: [] }, // admin only (the development SMTP server's mail)
  { path: "/setup", label: "Setup", roles: ["sales"] },
  { path: "/import", label: "Import & export", roles: ["sales", "finance", "viewer"] },
];
