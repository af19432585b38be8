"""Database adapter: SQLAlchemy models, engine, unit of work."""

from hub.adapters.db import chat_models, models, webhook_models  # noqa: F401
