"""Analyse: decode each image once at reduced size and compute its features."""
