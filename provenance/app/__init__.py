"""Use cases composed from the stages; each CLI command calls exactly one function here."""
