"""``python -m provenance`` runs the CLI."""

from provenance._cli import main

main()
