"""What the other ERP packages use of the clients: the client (invoices bill it, billing runs join it) and
finding or creating the client of a won deal's company; the tax of its lines, and the bill-to an invoice keeps."""

from erp.clients.models import Client
from erp.clients.replica import CompanySeen, client_for_company, clients_for_companies
from erp.clients.repository import ClientRepository
from erp.clients.service import bill_to, default_tax, reminders_paused

__all__ = ["Client", "ClientRepository", "CompanySeen", "bill_to", "client_for_company", "clients_for_companies",
           "default_tax", "reminders_paused"]
