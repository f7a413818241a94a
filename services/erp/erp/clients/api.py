"""What the other ERP packages use of the clients: the client (invoices bill it, billing runs join it) and
finding or creating the client of a won deal's company."""

from erp.clients.models import Client
from erp.clients.replica import CompanySeen, client_for_company, clients_for_companies
from erp.clients.repository import ClientRepository

__all__ = ["Client", "ClientRepository", "CompanySeen", "client_for_company", "clients_for_companies"]
