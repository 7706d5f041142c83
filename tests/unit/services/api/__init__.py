"""Unit tests of the sessions API: translations, read models, queries, the OpenAPI document."""
