"""What the other ERP packages use of the projects: the project (invoices, time, costs and billing refer to it,
billing runs join it), finding one, and the project.created event the won-deal intake records."""

from erp.projects.models import Project, ProjectStatus
from erp.projects.repository import ProjectRepository
from erp.projects.service import get_project, project_created, record_created

__all__ = ["Project", "ProjectRepository", "ProjectStatus", "get_project", "project_created", "record_created"]
