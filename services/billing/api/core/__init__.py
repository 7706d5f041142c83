"""The billing API's pure core: request bodies checked, CDRs kept and listed (no I/O)."""
