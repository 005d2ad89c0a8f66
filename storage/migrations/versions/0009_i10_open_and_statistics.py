"""national scale, second pass: /open and the statistics read from indexes alone

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
# What the figures of a park and period read (storage/statistics_queries.py): with these in the index,
# the 20,000 reports of a large park are read from one range of the index instead of 20,000 table pages.
FIGURE_COLUMNS = ['status', 'category_id', 'first_feedback_at', 'rating', 'reminder_count', 'next_reminder_at', 'id',
                  'roles']


def upgrade() -> None:
    # Both carry the JSON column ``roles``: on PostgreSQL (where JSON cannot be a key) as INCLUDE, on
    # SQLite (which has no INCLUDE) as a trailing key column.
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index('ix_report_open', 'report', ['park_id', 'created_at', 'id'], postgresql_include=['roles'],
                        postgresql_where=sa.text(OPEN_CONDITION))
        op.create_index('ix_report_park_figures', 'report', ['park_id', 'created_at'],
                        postgresql_include=FIGURE_COLUMNS)
    else:
        op.create_index('ix_report_open', 'report', ['park_id', 'created_at', 'id', 'roles'],
                        sqlite_where=sa.text(OPEN_CONDITION))
        op.create_index('ix_report_park_figures', 'report', ['park_id', 'created_at', *FIGURE_COLUMNS])
    op.drop_index('ix_report_park_created', table_name='report', if_exists=True)  # a prefix of the new one


def downgrade() -> None:
    op.create_index('ix_report_park_created', 'report', ['park_id', 'created_at'])
    op.drop_index('ix_report_park_figures', table_name='report')
    op.drop_index('ix_report_open', table_name='report')
