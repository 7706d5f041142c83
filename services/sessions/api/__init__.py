"""The operator API of the sessions service: read models, commands and the HTTP shell."""
