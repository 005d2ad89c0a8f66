"""Merge the national-scale indexes (issue 10) with instances and webhooks (issue 14).

Revision ID: 0010_i10_i14
Revises: 0009_i10, 0009_i14
"""

revision = '0010_i10_i14'
down_revision = ('0009_i10', '0009_i14')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
