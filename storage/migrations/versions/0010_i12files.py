"""files and videos with a help reply (issue 12): kept on the reply and passed on through the outbox

Revision ID: 0010_i12files
Revises: 0009_i14
"""
from alembic import op
import sqlalchemy as sa


revision = '0010_i12files'
down_revision = '0009_i14'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('requestreply', schema=None) as batch_op:
        batch_op.add_column(sa.Column('files', sa.JSON(), nullable=True))
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_column('file')
    with op.batch_alter_table('requestreply', schema=None) as batch_op:
        batch_op.drop_column('files')
