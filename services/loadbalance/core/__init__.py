"""The pure core of load balancing: no I/O, no clock."""
