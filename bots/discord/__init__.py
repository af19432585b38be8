"""The Discord adapter: discord.py's gateway client, the `/ticket` application command, buttons, the
channel relay and DMs, all on the platform-neutral core in `bots/` (see docs/discord.md)."""
