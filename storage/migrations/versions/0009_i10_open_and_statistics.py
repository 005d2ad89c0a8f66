"""national scale, second pass: the open reports of a park in order (/open)

Revision ID: 0009_i10
Revises: 0008_i10_merge
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_i10'
down_revision = '0008_i10_merge'
branch_labels = None
depends_on = None

OPEN_CONDITION = "status = 'open'"


def upgrade() -> None:
    op.create_index('ix_report_open', 'report', ['park_id', 'created_at', 'id'],
                    postgresql_where=sa.text(OPEN_CONDITION), sqlite_where=sa.text(OPEN_CONDITION))


def downgrade() -> None:
    op.drop_index('ix_report_open', table_name='report')
