"""The operator API of the sessions service: pure core/ plus its Kafka and HTTP shells (I/O)."""
