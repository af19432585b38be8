# Switchboard hub image: slim, non-root, dependencies in their own cached layer.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Dependencies first: this layer is rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN mkdir -p hub bots web migrations && touch hub/__init__.py bots/__init__.py web/__init__.py migrations/__init__.py \
 && pip install . && pip uninstall -y switchboard

COPY hub ./hub
COPY bots ./bots
COPY web ./web
COPY migrations ./migrations
RUN pip install --no-deps . && useradd --system --uid 10001 --home-dir /app switchboard
USER switchboard
EXPOSE 8000
# The hub's own check (GET /readyz); worker and bot containers override it with
# `switchboard healthcheck --process worker|slack|discord` (docker-compose.yml, docs/operations.md).
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD ["switchboard", "healthcheck"]
CMD ["switchboard", "serve", "--host", "0.0.0.0", "--port", "8000"]
