"""The load balancing service: limits per charging point under a site's capacity."""
