"""Alembic's environment for the serve tables: the connection comes from quizgen.serve.db.migrate."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, version_table="serve_alembic_version")
with context.begin_transaction():
    context.run_migrations()
