"""The transactional outbox relay: golden-record changes to RabbitMQ, after commit, at least once."""
