"""Merge the park-level (issue 12) and privacy (issue 13) branches of the schema.

Revision ID: 0006_i12_i13
Revises: 0005_i12_merge, 0005_i13_merge
"""

revision = '0006_i12_i13'
down_revision = ('0005_i12_merge', '0005_i13_merge')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
