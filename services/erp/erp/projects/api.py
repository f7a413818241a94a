"""What the other ERP packages use of the projects: the project (invoices, time, costs and billing refer to it,
billing runs join it and read its budget lines), finding one, the budget lines a won quote gives it, and the
project.created event the won-deal intake records."""

from erp.projects.models import BudgetLine, Project, ProjectStatus
from erp.projects.repository import ProjectRepository
from erp.projects.service import budget_line_rows, get_project, project_created, record_created

__all__ = ["BudgetLine", "Project", "ProjectRepository", "ProjectStatus", "budget_line_rows", "get_project",
           "project_created", "record_created"]
