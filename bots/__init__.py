"""Chat adapters (Slack, Discord): consumers of the hub's event stream and callers of its services."""
