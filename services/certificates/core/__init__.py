"""The certificates service's pure core: the commands it sends, and when."""
