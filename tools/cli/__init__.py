"""`chargebus`: the operator's command line over the APIs and the topics (docs/cli.md)."""
