"""Unit tests of the sessions API: the OpenAPI document against the app."""
