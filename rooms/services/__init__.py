"""Writes, one module per use case; each reads, checks with the rules, stores and calls Kaleyra."""
