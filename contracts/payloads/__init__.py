"""Every payload on our topics: one dataclass each, with one builder and one parser (pure).

A builder (``envelope()``, or ``event()`` for a service's domain event) writes the payload
exactly as docs/events.md shows it; a parser (``parse(envelope)``) reads it tolerantly and
returns None (or raises RecordRejected, where a reader must refuse) for what it cannot use.
"""
