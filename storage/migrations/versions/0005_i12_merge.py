"""merge main's head (i7a and i7b) with i12 (park level)

Revision ID: 0005_i12_merge
Revises: 0004_i7b_merge, 0003_i12
Create Date: 2026-11-30 09:10:00
"""

revision = '0005_i12_merge'
down_revision = ('0004_i7b_merge', '0003_i12')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
