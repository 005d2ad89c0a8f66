"""merge the heads of i8 (inbox) and i7b (invites, attachments)

Revision ID: 0005_i8_merge
Revises: 0004_i8_merge, 0004_i7b_merge
"""

revision = '0005_i8_merge'
down_revision = ('0004_i8_merge', '0004_i7b_merge')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
