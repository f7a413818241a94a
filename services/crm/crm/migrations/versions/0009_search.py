"""Search (issue 24): a stored full-text `search_vector` with a GIN index on companies, contacts, deals and leads,
and the vocabulary of their words with trigrams for typo tolerance (throughline_platform.search says how).

Revision ID: 0009
Revises: 0008
"""

from alembic import op

from throughline_platform.search import (
    VOCABULARY_DDL,
    VOCABULARY_DROP,
    searched_table_ddl,
    searched_table_drop,
)

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# What each table is found by (the CRM's search, crm/search/repository.py, shows the same titles).
DOCUMENTS = {
    "companies": "coalesce(name, '') || ' ' || coalesce(domain, '') || ' ' || coalesce(email, '')",
    "contacts": "coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || coalesce(email, '')"
                " || ' ' || coalesce(title, '')",
    "deals": "coalesce(title, '')",
    "leads": "coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || coalesce(email, '')"
             " || ' ' || coalesce(company_name, '') || ' ' || coalesce(company_domain, '')",
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
