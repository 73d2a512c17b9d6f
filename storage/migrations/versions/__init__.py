"""Alembic revisions: every schema change is one (see CONTRIBUTING.md)."""
