"""Who signed the prompt attestation of a change, and how many approvals each repository's
policy requires, so revocations are judged from the index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07

A ``prompter`` revocation matches the asserted prompter *or* whoever signed the prompt
attestation (G50); the index kept only the first, so ``impact --db`` and ``query --revoked``
would have missed a line the gate refuses. ``repositories.approvals_required`` lets
``impact --db`` count what a commit keeps. Rows written before this revision know neither:
every repository's ``policy_digest`` setting is cleared, so its next ``provenance index``
run rebuilds its rows (and fills both columns) instead of trusting them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the two columns; make every repository rebuild on its next run."""
    op.add_column("attestations", sa.Column("signed_prompter", sa.Text))
    op.add_column("repositories", sa.Column("approvals_required", sa.Text))
    op.execute(sa.text("UPDATE repositories SET policy_digest = NULL"))


def downgrade() -> None:
    """Drop the columns (the rebuild it asked for is harmless)."""
    with op.batch_alter_table("attestations") as batch:
        batch.drop_column("signed_prompter")
    with op.batch_alter_table("repositories") as batch:
        batch.drop_column("approvals_required")
