"""The gateway's pure core: decisions and translations, no sockets, no Kafka, no clock reads."""
