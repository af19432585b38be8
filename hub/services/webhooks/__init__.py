"""Outbound webhooks: endpoints, the outbox fan-out to deliveries, claims, results, the log."""
