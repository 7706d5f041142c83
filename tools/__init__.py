"""Developer tools: the station simulator and load generator."""
