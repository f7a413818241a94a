"""What the packages above documents (mailing) use of it: an invoice's content and its kept PDF."""

from erp.documents.content import BankAccount, InvoiceContent, Party, format_money
from erp.documents.service import KeptPdf, UnitsOfWork, content, document_of, pdf_of

__all__ = ["BankAccount", "InvoiceContent", "KeptPdf", "Party", "UnitsOfWork", "content", "document_of", "format_money",
           "pdf_of"]
