"""Alembic's migrations of the index schema, shipped in the wheel and driven by
:mod:`provenance.audit.migrate` (no ``alembic.ini`` needed)."""
