"""photo captions kept with a report's photos

Revision ID: 0003_i7a
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_i7a'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('photo_captions', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_column('photo_captions')
