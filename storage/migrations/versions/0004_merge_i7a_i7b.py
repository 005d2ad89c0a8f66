"""merge the heads of i7a (photo captions) and i7b (invites, attachments)

Revision ID: 0004_i7b_merge
Revises: 0003_i7a, 0003_i7b
"""

revision = '0004_i7b_merge'
down_revision = ('0003_i7a', '0003_i7b')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
