"""Loopback servers that speak real provider protocols, for wire-level tests."""
