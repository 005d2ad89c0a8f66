"""Merge files in answers to park requests (issue 12) with the national-scale and instances heads.

Revision ID: 0011_i12files_merge
Revises: 0010_i10_i14, 0010_i12files
"""

revision = '0011_i12files_merge'
down_revision = ('0010_i10_i14', '0010_i12files')
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
