"""chargebus contracts: topic names, the envelope and its msgpack codec, shared by every process."""
