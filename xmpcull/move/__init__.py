"""move stage."""
