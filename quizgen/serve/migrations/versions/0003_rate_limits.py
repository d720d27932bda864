"""Rate limits in the database: each student's recent requests of one kind, so that several
server processes (``quizgen serve --workers N``) share one limit.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "serve_rate_limits",
        sa.Column("student", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("recent", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("serve_rate_limits")
