"""Inbound integrations: senders (GitHub, Alertmanager, any signed tool) that change tickets.

`integrations` manages them (admins and owners); `receiver` runs one request at `/hooks/{id}`: the
kind's signature (`signatures`), the durable once-only claim (`deliveries`), then the kind's handler
(`github`, `alertmanager`, `generic`), which acts through the ordinary ticket services as the
integration's own user (`acting`), so every change lands in the outbox like any other.
"""
