"""chargebus contracts (pure): topics, the envelope and its msgpack codec, events, payloads."""
