// What each role may see and do. Mirrors the services' role policy (docs/web.md); the server still decides.

const ALL = ["admin", "sales", "finance", "project_manager", "viewer"];

const ACTIONS = {
  "crm.write": ["sales"],                      // companies, contacts, leads, deals, activities, tasks
  "project.write": ["project_manager", "finance"],
  "finance.write": ["finance"],                // invoices, payments, billing runs, credit notes
  "expense.create": ["sales", "finance", "project_manager"],
  "expense.approve": ["project_manager", "finance"], // the ERP enforces the manager limit
};

export function can(role, action) {
  return role === "admin" || (ACTIONS[action] || []).includes(role);
}

export const NAV = [
  { path: "/", label: "Dashboard", roles: ALL },
  { path: "/pipeline", label: "Pipeline", roles: ["sales", "project_manager", "viewer"] },
  { path: "/companies", label: "Companies", roles: ["sales", "finance", "viewer"] },
  { path: "/leads", label: "Leads", roles: ["sales"] },
  { path: "/tasks", label: "My tasks", roles: ["sales"] },
  { path: "/forecast", label: "Forecast", roles: ["sales", "viewer"] },
  { path: "/projects", label: "Projects", roles: ["finance", "project_manager", "viewer"] },
  { path: "/invoices", label: "Invoices", roles: ["finance", "viewer"] },
  { path: "/expenses", label: "Expenses", roles: ["sales", "finance", "project_manager"] },
  { path: "/reports", label: "Reports", roles: ["finance", "project_manager", "viewer"] },
];
