"""park administration

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 17:18:30.042973
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('adminchange',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['park_id'], ['park.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('adminchange', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adminchange_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_adminchange_park_id'), ['park_id'], unique=False)

    op.create_table('pendingcommand',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('command', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('args', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pendingcommand', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pendingcommand_person_id'), ['person_id'], unique=False)

    with op.batch_alter_table('category', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signals_nl', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('signals_en', sa.Text(), nullable=True))

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language_chosen', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_reminded_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('role', schema=None) as batch_op:
        batch_op.add_column(sa.Column('away_since', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('backup_person_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_role_backup_person_id_person', 'person', ['backup_person_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('role', schema=None) as batch_op:
        batch_op.drop_constraint('fk_role_backup_person_id_person', type_='foreignkey')
        batch_op.drop_column('backup_person_id')
        batch_op.drop_column('away_since')

    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_column('last_reminded_at')

    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('language_chosen')

    with op.batch_alter_table('category', schema=None) as batch_op:
        batch_op.drop_column('signals_en')
        batch_op.drop_column('signals_nl')

    with op.batch_alter_table('pendingcommand', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pendingcommand_person_id'))

    op.drop_table('pendingcommand')
    with op.batch_alter_table('adminchange', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_adminchange_park_id'))
        batch_op.drop_index(batch_op.f('ix_adminchange_created_at'))

    op.drop_table('adminchange')
