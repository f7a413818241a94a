"""Credentials the gateway issues and checks: signed access tokens, password hashes. The lowest layer of the
gateway: auth, users and request security build on it."""
