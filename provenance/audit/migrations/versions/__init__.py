"""One module per schema revision; each is frozen once released (never edited, only followed)."""
