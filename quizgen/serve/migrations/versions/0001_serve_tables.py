"""The first serve tables: tokens, sessions, practice variants and attempts, drafts, submissions.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "serve_meta", sa.Column("key", sa.String(64), primary_key=True), sa.Column("value", sa.Text)
    )
    op.create_table(
        "serve_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False),
    )
    op.create_table(
        "serve_sessions",
        sa.Column("session_hash", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_table(
        "serve_variants",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("student", sa.String(200), nullable=False),
        sa.Column("template_id", sa.String(200), nullable=False),
        sa.Column("counter", sa.Integer, nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("tries", sa.Integer, nullable=False),
        sa.Column("solution_shown", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.UniqueConstraint("student", "counter"),
    )
    op.create_table(
        "serve_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("variant_id", sa.Integer, sa.ForeignKey("serve_variants.id"), nullable=False),
        sa.Column("student", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("max_points", sa.Float, nullable=False),
        sa.Column("results", sa.Text, nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
    )
    op.create_index("serve_attempts_student", "serve_attempts", ["student", "topic"])
    op.create_table(
        "serve_drafts",
        sa.Column("exam", sa.String(64), primary_key=True),
        sa.Column("student", sa.String(200), primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("part", sa.String(64), primary_key=True),
        sa.Column("text", sa.Text),
        sa.Column("saved_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "serve_submissions",
        sa.Column("exam", sa.String(64), primary_key=True),
        sa.Column("student", sa.String(200), primary_key=True),
        sa.Column("submitted_at", sa.String(40), nullable=False),
        sa.Column("how", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "serve_submissions", "serve_drafts", "serve_attempts", "serve_variants", "serve_sessions",
        "serve_tokens", "serve_meta",
    ):  # fmt: skip
        op.drop_table(table)
