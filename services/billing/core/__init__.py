"""The billing service's pure core: tariffs, the price of a session, CDRs (no I/O, no clock)."""
