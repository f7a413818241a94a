"""Throughline CRM service."""
