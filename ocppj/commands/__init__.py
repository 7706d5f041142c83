"""Operator commands as OCPP CALLs: one version-neutral command, one payload per version (pure)."""
