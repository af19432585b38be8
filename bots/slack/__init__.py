"""Slack: the `/ticket` command, buttons, modals, shortcuts, unfurls, the channel relay and DMs.

Built on slack-bolt's `AsyncApp` and slack_sdk's `AsyncWebClient`; only platform glue and rendering
live here, the rules are the hub's services (`bots.actions`, `bots.relay`, `bots.notify`).
"""
