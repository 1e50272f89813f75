"""Alembic's environment: migrate on the connection :mod:`provenance.audit.migrate` hands over.

There is no ``alembic.ini`` and no URL here: the caller opens the connection (with the
credentials from the user's environment) and passes it in ``config.attributes``.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
# the caller holds the transaction: the whole upgrade lands, or none of it
with context.begin_transaction():
    context.run_migrations()
