"""Provenance for AI-generated identity changes: record, sign, store, verify, audit."""

__version__ = "0.1.0"
