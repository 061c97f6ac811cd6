"""Checks: the reconciliation rules (rules.yaml) and the Dagster asset checks; delivery schemas are in p06/ingest/schema.py."""
