"""crop stage."""
