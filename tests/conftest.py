"""Shared fixtures: tenants, users and rows in the real PostgreSQL test database."""
