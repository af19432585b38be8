"""Database adapter: SQLAlchemy models, engine, unit of work."""

from hub.adapters.db import models, webhook_models  # noqa: F401
