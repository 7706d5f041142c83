"""The load balancing API's pure parts: its errors and the site registry it keeps."""
