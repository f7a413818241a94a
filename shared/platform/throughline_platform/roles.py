"""The roles a user or API key holds. One list for the whole system: the gateway issues them in tokens, every
service checks them against its policy (`throughline_platform.policy`)."""

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    SALES = "sales"
    FINANCE = "finance"
    PROJECT_MANAGER = "project_manager"
    MEMBER = "member"
    VIEWER = "viewer"


ROLES: tuple[Role, ...] = tuple(Role)
