"""Building the bolt `AsyncApp` for one hub: single-workspace token or multi-workspace OAuth.

Installation store (multi-workspace): slack_sdk's own `AsyncSQLAlchemyInstallationStore` and
`AsyncSQLAlchemyOAuthStateStore`, on the hub's async engine. Their tables (`slack_installations`,
`slack_bots`, `slack_oauth_states`) are declared on our metadata with slack_sdk's own table builders
(`hub/adapters/db/chat_models.py`), so Alembic creates them and the drift test guards them; we never
call `create_tables()`. Writing our own store would duplicate slack_sdk's token-rotation-aware code
for no gain. (They store naive UTC datetimes, as slack_sdk does everywhere.)

Lifecycle (uninstalls, revoked tokens, archived or left channels, reinstalls) and token rotation:
`bots/slack/lifecycle.py`; the App Home: `bots/slack/home.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator

from bots.actions import Actions, PresenceLookup
from bots.slack import buttons, command_rules, commands, create, dedupe, edits, events, home, lifecycle
from bots.slack.bot import SlackBot, log
from bots.slack.clients import SlackClients, make_client
from bots.slack.config import BOT_SCOPES, SlackConfig
from bots.slack.lifecycle import TokenKeeper
from bots.slack.people import SlackPeople
from hub.adapters.db.engine import Database
from hub.context import UowFactory

STATE_SECONDS = 600


@dataclass
class SlackParts:
    bolt: AsyncApp
    bot: SlackBot
    clients: SlackClients


def build(
    config: SlackConfig,
    db: Database,
    *,
    uow: UowFactory,
    presence: PresenceLookup | None = None,
) -> SlackParts:
    """The bolt app with every listener registered, and the clients the relays use.

    `uow` (`HubContext.uow`) makes the units of work commands run in, so their events create their
    notifications and reach the publisher (sockets, other processes) exactly like REST writes. It is
    required: a bare unit of work would write events without notifications.
    """
    make_uow = uow
    bot = SlackBot(config, Actions(make_uow, presence), SlackPeople(make_uow), make_uow)
    store = None
    oauth = None
    keeper = None
    default_client = make_client(config, config.bot_token)
    if config.multi_workspace:
        assert config.client_id is not None
        assert config.client_secret is not None
        store = AsyncSQLAlchemyInstallationStore(client_id=config.client_id, engine=db.engine, logger=log)
        # Bolt refreshes tokens for incoming requests (its authorizer uses the app's client, so
        # SLACK_API_URL); the relay and notifier post without a request: TokenKeeper does it there.
        rotator = AsyncTokenRotator(
            client_id=config.client_id, client_secret=config.client_secret, client=default_client
        )
        keeper = TokenKeeper(store, rotator, config.token_rotation_minutes)
        oauth = AsyncOAuthSettings(
            client_id=config.client_id,
            client_secret=config.client_secret,
            scopes=list(BOT_SCOPES),
            redirect_uri=f"{config.public_url.rstrip('/')}/slack/oauth_redirect",
            installation_store=store,
            state_store=AsyncSQLAlchemyOAuthStateStore(
                expiration_seconds=STATE_SECONDS, engine=db.engine, logger=log
            ),
            install_page_rendering_enabled=True,
            token_rotation_expiration_minutes=config.token_rotation_minutes,
            logger=log,
        )
    life = lifecycle.Lifecycle(bot, store, keeper)
    if oauth is not None:
        oauth.callback_options = life.callback_options()
    clients = SlackClients(config, store, default=default_client, tokens=keeper)
    life.forget_team.append(clients.forget)
    bolt = AsyncApp(
        client=clients.default,
        signing_secret=config.signing_secret,
        installation_store=store,
        oauth_settings=oauth,
        process_before_response=config.process_before_response,
        logger=log,
    )
    dedupe.register(bolt, dedupe.SlackDedupe(make_uow))  # before any listener: each request once
    commands.register(bolt, bot)
    command_rules.register(bolt, bot)
    create.register(bolt, bot)
    edits.register(bolt, bot)
    buttons.register(bolt, bot)
    events.register(bolt, bot)
    lifecycle.register(bolt, life)
    home.register(bolt, bot)
    return SlackParts(bolt, bot, clients)
