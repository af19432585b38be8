"""Database adapter: SQLAlchemy models, engine, unit of work."""

from hub.adapters.db import (  # noqa: F401
    chat_models,
    integration_models,
    invite_models,
    models,
    retention_models,
    webhook_models,
)
