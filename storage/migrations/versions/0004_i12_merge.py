"""merge the heads of i7a (photo captions) and i12 (park level)

Revision ID: 0004_i12_merge
Revises: 0003_i7a, 0003_i12
Create Date: 2026-11-30 08:40:00
"""

revision = '0004_i12_merge'
down_revision = ('0003_i7a', '0003_i12')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
