"""The alerts service: what needs an operator, from the stations' events (docs/alerts.md)."""
