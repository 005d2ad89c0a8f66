"""merge the privacy revision (i13) with main's head (i7a)

Revision ID: 0004_i13_merge
Revises: 0003_i13, 0003_i7a
"""

revision = '0004_i13_merge'
down_revision = ('0003_i13', '0003_i7a')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
