"""Use cases. REST, WebSocket and chat handlers call these; nobody else writes to the database."""
