"""merge the national-scale indexes (i10) with the photo captions (i7a)

Revision ID: 0004_i10_merge
Revises: 0003_i10, 0003_i7a
"""


revision = '0004_i10_merge'
down_revision = ('0003_i10', '0003_i7a')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
