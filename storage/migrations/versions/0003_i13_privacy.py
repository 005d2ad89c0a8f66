"""privacy: retention per park, forgotten people, purged reports, who saw what, rate events

Revision ID: 0003_i13
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003_i13'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('park', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_s', sa.Integer(), nullable=False, server_default=str(365 * 86400)))
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('forgotten_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(), nullable=True))
        batch_op.alter_column('reporter_person_id', existing_type=sa.Integer(), nullable=True)

    op.create_table('reportaccess',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('reportaccess', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reportaccess_report_id'), ['report_id'], unique=False)

    op.create_table('rateevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rateevent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rateevent_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_rateevent_person_kind_at', ['person_id', 'kind', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rateevent', schema=None) as batch_op:
        batch_op.drop_index('ix_rateevent_person_kind_at')
        batch_op.drop_index(batch_op.f('ix_rateevent_created_at'))
    op.drop_table('rateevent')
    with op.batch_alter_table('reportaccess', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reportaccess_report_id'))
    op.drop_table('reportaccess')
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.alter_column('reporter_person_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('purged_at')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('forgotten_at')
    with op.batch_alter_table('park', schema=None) as batch_op:
        batch_op.drop_column('retention_s')
