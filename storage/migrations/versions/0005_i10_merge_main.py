"""Merge i10's line (0004_i10_merge) with main's (0004_i7b_merge): one head again.

Revision ID: 0005_i10_main
Revises: 0004_i10_merge, 0004_i7b_merge
"""

revision = "0005_i10_main"
down_revision = ("0004_i10_merge", "0004_i7b_merge")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
