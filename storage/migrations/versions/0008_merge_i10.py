"""Merge national scale (issue 10: indexes) with the rest of the schema.

Revision ID: 0008_i10_merge
Revises: 0005_i10_main, 0007_i8_merge
"""

revision = '0008_i10_merge'
down_revision = ('0005_i10_main', '0007_i8_merge')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
