"""Throughline ERP service."""
