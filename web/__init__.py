"""The web board's static assets (served by the hub from `web/static`)."""

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
