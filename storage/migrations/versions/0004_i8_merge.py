"""merge the inbox (i8) and photo captions (i7a) heads

Revision ID: 0004_i8_merge
Revises: 0003_i8, 0003_i7a
"""

revision = '0004_i8_merge'
down_revision = ('0003_i8', '0003_i7a')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
