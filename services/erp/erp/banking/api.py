"""What the other ERP packages may use of banking: the statements (account, currency, opening and closing balances
and dates) and their lines, which the ledger will post to the bank account and compare with the balances."""

from erp.banking.models import BankLine, BankLineMatch, BankStatement, LineStatus

__all__ = ["BankLine", "BankLineMatch", "BankStatement", "LineStatus"]
