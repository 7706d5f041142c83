"""chargebus gateway: the stateless OCPP-J edge between station WebSockets and Kafka."""
