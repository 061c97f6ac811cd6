"""Checks: per-source delivery schemas (pandera) and reconciliation rules (rules.yaml)."""
