"""Slack and Discord as seen by the hub: linked accounts, channel subscriptions, relays, DMs, digests."""
