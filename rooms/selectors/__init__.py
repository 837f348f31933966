"""Reads: what a participant or an operator may see."""
