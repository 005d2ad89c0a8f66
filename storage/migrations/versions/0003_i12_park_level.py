"""park level: updates, requests with follow-up, the monthly digest, the park scan (issue 12)

Revision ID: 0003_i12
Revises: 0002
Create Date: 2026-11-30 07:50:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003_i12'
down_revision = '0002'
branch_labels = None
depends_on = None


def _string(length: int):
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table('parkmember',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('since', sa.DateTime(), nullable=False),
    sa.Column('opted_out_at', sa.DateTime(), nullable=True),
    sa.Column('checked_at', sa.DateTime(), nullable=True),
    sa.Column('missed_checks', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['park_id'], ['park.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('park_id', 'person_id')
    )
    op.create_index('ix_parkmember_park_id', 'parkmember', ['park_id'], unique=False)
    op.create_index('ix_parkmember_person_id', 'parkmember', ['person_id'], unique=False)

    op.create_table('parkleveldraft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', _string(16), nullable=False),
    sa.Column('step', _string(16), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('person_id')
    )

    op.create_table('parkupdate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=False),
    sa.Column('author_person_id', sa.Integer(), nullable=False),
    sa.Column('author_role', _string(32), nullable=False),
    sa.Column('show_name', sa.Boolean(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('photo', _string(1024), nullable=True),
    sa.Column('to_groups', sa.Integer(), nullable=False),
    sa.Column('to_members', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['park_id'], ['park.id'], ),
    sa.ForeignKeyConstraint(['author_person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_parkupdate_park_id', 'parkupdate', ['park_id'], unique=False)
    op.create_index('ix_parkupdate_author_person_id', 'parkupdate', ['author_person_id'], unique=False)
    op.create_index('ix_parkupdate_created_at', 'parkupdate', ['created_at'], unique=False)

    op.create_table('updateuseful',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('update_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['update_id'], ['parkupdate.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('update_id', 'person_id')
    )
    op.create_index('ix_updateuseful_update_id', 'updateuseful', ['update_id'], unique=False)

    op.create_table('parkrequest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('author_person_id', sa.Integer(), nullable=False),
    sa.Column('author_role', _string(32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', _string(16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closing_text', sa.Text(), nullable=True),
    sa.Column('reminder_count', sa.Integer(), nullable=False),
    sa.Column('next_reminder_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['park_id'], ['park.id'], ),
    sa.ForeignKeyConstraint(['author_person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('park_id', 'number')
    )
    op.create_index('ix_parkrequest_park_id', 'parkrequest', ['park_id'], unique=False)
    op.create_index('ix_parkrequest_author_person_id', 'parkrequest', ['author_person_id'], unique=False)
    op.create_index('ix_parkrequest_next_reminder_at', 'parkrequest', ['next_reminder_at'], unique=False)

    op.create_table('requestreply',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('helper_person_id', sa.Integer(), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('photos', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['parkrequest.id'], ),
    sa.ForeignKeyConstraint(['helper_person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_requestreply_request_id', 'requestreply', ['request_id'], unique=False)
    op.create_index('ix_requestreply_helper_person_id', 'requestreply', ['helper_person_id'], unique=False)

    op.create_table('digestschedule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('day', sa.Integer(), nullable=False),
    sa.Column('at', _string(5), nullable=False),
    sa.Column('last_period', _string(7), nullable=True),
    sa.ForeignKeyConstraint(['park_id'], ['park.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('park_id')
    )

    op.create_table('parkscan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=False),
    sa.Column('started_by_person_id', sa.Integer(), nullable=False),
    sa.Column('status', _string(16), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('salt', _string(64), nullable=True),
    sa.Column('invited', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('remind_at', sa.DateTime(), nullable=True),
    sa.Column('closes_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['park_id'], ['park.id'], ),
    sa.ForeignKeyConstraint(['started_by_person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_parkscan_park_id', 'parkscan', ['park_id'], unique=False)
    op.create_index('ix_parkscan_status_closes_at', 'parkscan', ['status', 'closes_at'], unique=False)

    op.create_table('scanprogress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scan_id', sa.Integer(), nullable=False),
    sa.Column('person_hash', _string(64), nullable=False),
    sa.Column('respondent', _string(32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('selected', sa.JSON(), nullable=False),
    sa.Column('finished', sa.Boolean(), nullable=False),
    sa.Column('opted_out', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['scan_id'], ['parkscan.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('scan_id', 'person_hash')
    )
    op.create_index('ix_scanprogress_scan_id', 'scanprogress', ['scan_id'], unique=False)

    op.create_table('scananswer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scan_id', sa.Integer(), nullable=False),
    sa.Column('respondent', _string(32), nullable=False),
    sa.Column('question', _string(40), nullable=False),
    sa.Column('value', _string(40), nullable=False),
    sa.ForeignKeyConstraint(['scan_id'], ['parkscan.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_scananswer_scan_id', 'scananswer', ['scan_id'], unique=False)

    op.create_table('scanquestionset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['park_id'], ['park.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('park_id')
    )


def downgrade() -> None:
    op.drop_table('scanquestionset')
    op.drop_index('ix_scananswer_scan_id', table_name='scananswer')
    op.drop_table('scananswer')
    op.drop_index('ix_scanprogress_scan_id', table_name='scanprogress')
    op.drop_table('scanprogress')
    op.drop_index('ix_parkscan_status_closes_at', table_name='parkscan')
    op.drop_index('ix_parkscan_park_id', table_name='parkscan')
    op.drop_table('parkscan')
    op.drop_table('digestschedule')
    op.drop_index('ix_requestreply_helper_person_id', table_name='requestreply')
    op.drop_index('ix_requestreply_request_id', table_name='requestreply')
    op.drop_table('requestreply')
    op.drop_index('ix_parkrequest_next_reminder_at', table_name='parkrequest')
    op.drop_index('ix_parkrequest_author_person_id', table_name='parkrequest')
    op.drop_index('ix_parkrequest_park_id', table_name='parkrequest')
    op.drop_table('parkrequest')
    op.drop_index('ix_updateuseful_update_id', table_name='updateuseful')
    op.drop_table('updateuseful')
    op.drop_index('ix_parkupdate_created_at', table_name='parkupdate')
    op.drop_index('ix_parkupdate_author_person_id', table_name='parkupdate')
    op.drop_index('ix_parkupdate_park_id', table_name='parkupdate')
    op.drop_table('parkupdate')
    op.drop_table('parkleveldraft')
    op.drop_index('ix_parkmember_person_id', table_name='parkmember')
    op.drop_index('ix_parkmember_park_id', table_name='parkmember')
    op.drop_table('parkmember')
