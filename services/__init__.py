"""chargebus services: sessions, billing and load balancing."""
