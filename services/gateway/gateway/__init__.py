"""Throughline API gateway."""
