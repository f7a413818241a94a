"""What the other ERP packages use of the projects: the project (invoices, time, costs and billing refer to it,
billing runs join it and read its budget lines), finding one, the budget lines a won quote gives it, the
project.created event the won-deal intake records, and where the budgets' check is registered (`BUDGET_CHECKS`)."""

from erp.projects.budget_checks import BUDGET_CHECKS
from erp.projects.models import BudgetLine, Project, ProjectStatus
from erp.projects.repository import ProjectRepository
from erp.projects.service import budget_line_rows, get_project, project_created, record_created

__all__ = ["BUDGET_CHECKS", "BudgetLine", "Project", "ProjectRepository", "ProjectStatus", "budget_line_rows",
           "get_project", "project_created", "record_created"]
