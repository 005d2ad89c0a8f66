"""inbox of received updates, leases, outbox index per chat

Revision ID: 0003_i8
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003_i8'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inboxupdate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('applied_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('inboxupdate', schema=None) as batch_op:
        batch_op.create_index('ix_inboxupdate_pending', ['applied_at', 'id'], unique=False)
    op.create_table('lease',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True))
        batch_op.create_index('ix_outbox_chat_pending', ['platform', 'chat_id', 'status', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_chat_pending')
        batch_op.drop_column('claimed_by')
    op.drop_table('lease')
    with op.batch_alter_table('inboxupdate', schema=None) as batch_op:
        batch_op.drop_index('ix_inboxupdate_pending')
    op.drop_table('inboxupdate')
