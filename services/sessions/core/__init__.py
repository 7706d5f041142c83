"""The sessions service's pure core: station messages in, state, replies and domain events out."""
