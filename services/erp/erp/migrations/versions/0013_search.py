"""Search (issue 24): a stored full-text `search_vector` with a GIN index on projects, invoices and clients (an
invoice is found by its client's name too), and the vocabulary of their words with trigrams for typo tolerance
(throughline_platform.search says how).

Revision ID: 0013
Revises: 0012
"""

from alembic import op

from throughline_platform.search import (
    VOCABULARY_DDL,
    VOCABULARY_DROP,
    searched_table_ddl,
    searched_table_drop,
)

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# What each table is found by (the ERP's search, erp/search/repository.py, shows the titles).
DOCUMENTS = {
    "clients": "coalesce(name, '')",
    "projects": "coalesce(name, '')",
    "invoices": "coalesce(number, '') || ' ' || coalesce(payment_reference, '') || ' ' || coalesce(notes, '')",
}


def upgrade() -> None:
    for statement in VOCABULARY_DDL:
        op.execute(statement)
    for table, document in DOCUMENTS.items():
        for statement in searched_table_ddl(table, document):
            op.execute(statement)


def downgrade() -> None:
    for table in DOCUMENTS:
        for statement in searched_table_drop(table):
            op.execute(statement)
    for statement in VOCABULARY_DROP:
        op.execute(statement)
