"""Merge the message pipeline (issue 8: inbox, leases) with the rest of the schema.

Revision ID: 0007_i8_merge
Revises: 0005_i8_merge, 0006_i12_i13
"""

revision = '0007_i8_merge'
down_revision = ('0005_i8_merge', '0006_i12_i13')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
