"""inbox rows know their holder and their chat and person lanes (several instances, issue 14)

Revision ID: 0009_i14
Revises: 0008_i10_merge
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0009_i14'
down_revision = '0008_i10_merge'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inboxupdate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True))
        batch_op.add_column(sa.Column('chat_lane', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('person_lane', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('inboxupdate', schema=None) as batch_op:
        batch_op.drop_column('person_lane')
        batch_op.drop_column('chat_lane')
        batch_op.drop_column('holder')
