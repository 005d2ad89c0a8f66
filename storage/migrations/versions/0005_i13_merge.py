"""merge the privacy branch's merge (i13 + i7a) with main's (i7a + i7b)

Revision ID: 0005_i13_merge
Revises: 0004_i13_merge, 0004_i7b_merge
"""

revision = '0005_i13_merge'
down_revision = ('0004_i13_merge', '0004_i7b_merge')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
