"""The pure core of the sessions API: read models, queries, outcomes, errors (no I/O)."""
