"""Real-time transport: WebSocket endpoints, the per-process fan-out, presence."""
