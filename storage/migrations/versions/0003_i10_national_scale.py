"""national scale: indexes for the hot queries, known park members

Revision ID: 0003_i10
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_i10'
down_revision = '0002'
branch_labels = None
depends_on = None

DUE_CONDITION = "status = 'open' AND first_feedback_at IS NULL AND next_reminder_at IS NOT NULL"


AWAY_CONDITION = "away_since IS NOT NULL AND revoked_at IS NULL"


def upgrade() -> None:
    op.create_index('ix_role_away', 'role', ['person_id'], postgresql_where=sa.text(AWAY_CONDITION),
                    sqlite_where=sa.text(AWAY_CONDITION))
    op.create_index('ix_report_due', 'report', ['next_reminder_at'], postgresql_where=sa.text(DUE_CONDITION),
                    sqlite_where=sa.text(DUE_CONDITION))
    op.create_index('ix_report_park_created', 'report', ['park_id', 'created_at'])
    op.create_index('ix_report_reporter_created', 'report', ['reporter_person_id', 'created_at'])
    op.create_index('ix_outbox_created_at', 'outboxmessage', ['created_at'])
    op.create_index('ix_outbox_pending', 'outboxmessage', ['id'], postgresql_where=sa.text("status = 'pending'"),
                    sqlite_where=sa.text("status = 'pending'"))
    op.create_index('ix_reportrecipient_person_report', 'reportrecipient', ['person_id', 'report_id'])
    # The park membership table itself comes with 0003_i12 (park level), which this branch shares.


def downgrade() -> None:
    op.drop_index('ix_reportrecipient_person_report', table_name='reportrecipient')
    op.drop_index('ix_outbox_pending', table_name='outboxmessage')
    op.drop_index('ix_outbox_created_at', table_name='outboxmessage')
    op.drop_index('ix_report_reporter_created', table_name='report')
    op.drop_index('ix_report_park_created', table_name='report')
    op.drop_index('ix_report_due', table_name='report')
    op.drop_index('ix_role_away', table_name='role')
