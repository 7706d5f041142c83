"""Unit tests of the sessions API core: read models, queries, outcomes."""
