"""The gateway publishes its users as events (issue 23): an outbox, the `member` role, and a `user.created` for every
user that exists already, so that the ERP makes a person of each (the admin of a running `make run` included).

Revision ID: 0006
"""

from alembic import op
from sqlalchemy import MetaData, text

from throughline_events.gateway import UserCreatedV1
from throughline_messaging.aggregate import RecordedEvent
from throughline_messaging.tables import create_outbox_table_sql, outbox_table
from throughline_messaging.uow import OutboxWriter, insert_and_wake

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ROLES_BEFORE = "'admin', 'sales', 'finance', 'project_manager', 'viewer'"
ROLES_AFTER = "'admin', 'sales', 'finance', 'project_manager', 'member', 'viewer'"


def upgrade() -> None:
    for statement in create_outbox_table_sql():
        op.execute(statement)
    for table in ("users", "api_keys"):
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_role_check")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_role_check CHECK (role IN ({ROLES_AFTER}))")
    _announce_existing_users()


def _announce_existing_users() -> None:
    """One `user.created` per existing user, staged in this migration's transaction; the relay publishes them. A user
    made later (the first admin of a fresh database included) gets theirs from the code that makes it."""
    bind = op.get_bind()
    rows = bind.execute(text("SELECT id, email, full_name, role, active, created_at FROM users ORDER BY created_at"))
    recorded = [RecordedEvent(UserCreatedV1(user_id=row.id, email=row.email, full_name=row.full_name,
                                            role=row.role, active=row.active, created_at=row.created_at))
                for row in rows]
    if not recorded:
        return
    outbox = outbox_table(MetaData())
    writer = OutboxWriter("gateway", outbox, notify_channel="outbox_gateway")
    bind.execute(insert_and_wake(outbox), writer.parameters(recorded))


def downgrade() -> None:
    for table in ("users", "api_keys"):
        op.execute(f"UPDATE {table} SET role = 'viewer' WHERE role = 'member'")
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_role_check")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {table}_role_check CHECK (role IN ({ROLES_BEFORE}))")
    op.execute("DROP TABLE outbox")
