"""OCPP-J, sans-I/O: frames, errors, schema validation and the per-connection session."""
