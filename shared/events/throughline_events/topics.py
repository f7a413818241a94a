"""The topic registry: one topic per aggregate, `<context>.<aggregate>.events`, key = aggregate id."""

from dataclasses import dataclass

DEAD_LETTER_SUFFIX = "dlt"
# The aggregate types `crm.account.events` carries.
ACCOUNT_AGGREGATES = ("company", "contact", "mail")


@dataclass(frozen=True)
class Topic:
    name: str
    aggregate_type: str
    partitions: int
    description: str


TOPICS: dict[str, Topic] = {
    t.name: t
    for t in (
        Topic("crm.lead.events", "lead", 6, "Leads captured and converted in the CRM."),
        Topic(
            "crm.account.events",
            "account",
            6,
            "Companies and contacts (the ERP keeps its client replica from these), and the mail the CRM exchanges "
            "with them.",
        ),
        Topic("crm.deal.events", "deal", 6, "Deals: created, moved between stages, won, lost."),
        Topic("erp.project.events", "project", 6, "Projects created in the ERP, usually from a won deal."),
        Topic("erp.invoice.events", "invoice", 6, "Invoices issued, paid, overdue, voided, and payments recorded."),
        Topic("erp.expense.events", "expense", 6, "Expenses submitted, approved and rejected."),
        Topic("erp.ledger.events", "ledger", 6,
              "The books: journal entries posted (automatically for a business fact, or by hand) and accounting "
              "periods closed."),
    )
}


def topic_for(aggregate_type: str) -> Topic:
    """The topic that carries an aggregate type's events: companies, contacts and the mail exchanged with them share
    `account` (docs/crm-communications.md says why the mail has no topic of its own)."""
    wanted = "account" if aggregate_type in ACCOUNT_AGGREGATES else aggregate_type
    for topic in TOPICS.values():
        if topic.aggregate_type == wanted:
            return topic
    raise KeyError(f"no topic carries {aggregate_type!r} events")


def dead_letter_topic(topic: str, consumer_group: str) -> str:
    """`<topic>.<group>.dlt`: where a consumer group parks the events it cannot process."""
    return f"{topic}.{consumer_group}.{DEAD_LETTER_SUFFIX}"
