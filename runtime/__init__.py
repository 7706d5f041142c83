"""The I/O every chargebus process shares: Kafka clients, followers, the stateful worker."""
