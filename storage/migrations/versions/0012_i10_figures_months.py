"""national scale, fourth pass: the figures of long periods from a summary per park and month

Revision ID: 0012_i10_figures_months
Revises: 0011_i12files_merge

``figuresmonth`` holds one row per park and month (UTC, by ``created_at``) that has reports. Triggers
on ``report`` raise its ``version`` whenever a report is added, removed, or changes in a column the
figures read, whoever writes it (the ORM, a bulk ``UPDATE``, a hand-written statement); a summary is
valid only while it was computed at the current version (``storage/figures_months.py``).
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_i10_figures_months'
down_revision = '0011_i12files_merge'
branch_labels = None
depends_on = None

# The columns the figures read (storage/statistics_queries.py, storage/figures_months.py).
FIGURE_COLUMNS = 'park_id, category_id, roles, status, created_at, first_feedback_at, rating'


def _bump_sqlite(row: str) -> str:
    return (f"INSERT INTO figuresmonth (park_id, month, version) VALUES ({row}.park_id, substr({row}.created_at, 1, 7), 1) "
            "ON CONFLICT (park_id, month) DO UPDATE SET version = version + 1;")


def _bump_postgres(row: str) -> str:
    return (f"INSERT INTO figuresmonth (park_id, month, version) VALUES ({row}.park_id, to_char({row}.created_at, 'YYYY-MM'), 1) "
            "ON CONFLICT (park_id, month) DO UPDATE SET version = figuresmonth.version + 1;")


def upgrade() -> None:
    op.create_table(
        'figuresmonth',
        sa.Column('park_id', sa.Integer(), sa.ForeignKey('park.id'), primary_key=True),
        sa.Column('month', sa.String(length=7), primary_key=True),
        sa.Column('version', sa.Integer(), nullable=False, server_default='1'),
        sa.Column('summary_version', sa.Integer(), nullable=True),
        sa.Column('summary', sa.Text(), nullable=True),
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""
            CREATE FUNCTION report_figures_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP <> 'INSERT' THEN {_bump_postgres('OLD')} END IF;
                IF TG_OP <> 'DELETE' THEN {_bump_postgres('NEW')} END IF;
                RETURN NULL;
            END $$""")
        op.execute(f"CREATE TRIGGER report_figures AFTER INSERT OR DELETE OR UPDATE OF {FIGURE_COLUMNS} ON report "
                   "FOR EACH ROW EXECUTE FUNCTION report_figures_changed()")
        month = "to_char(created_at, 'YYYY-MM')"
    else:
        op.execute(f"CREATE TRIGGER report_figures_insert AFTER INSERT ON report BEGIN {_bump_sqlite('NEW')} END")
        op.execute(f"CREATE TRIGGER report_figures_update AFTER UPDATE OF {FIGURE_COLUMNS} ON report "
                   f"BEGIN {_bump_sqlite('OLD')} {_bump_sqlite('NEW')} END")
        op.execute(f"CREATE TRIGGER report_figures_delete AFTER DELETE ON report BEGIN {_bump_sqlite('OLD')} END")
        month = "substr(created_at, 1, 7)"
    op.execute(f"INSERT INTO figuresmonth (park_id, month, version) "
               f"SELECT park_id, {month}, 1 FROM report GROUP BY park_id, {month}")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER report_figures ON report")
        op.execute("DROP FUNCTION report_figures_changed()")
    else:
        for name in ('insert', 'update', 'delete'):
            op.execute(f"DROP TRIGGER report_figures_{name}")
    op.drop_table('figuresmonth')
