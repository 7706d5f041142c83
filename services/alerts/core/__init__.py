"""The alerts service's pure core: rules, per-station state, the partition store."""
