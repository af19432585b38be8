"""The `switchboard` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from hub.config import ConfigError, Settings, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchboard", description="Real-time ticketing hub for chat teams."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="migrate (embedded default) and serve API, sockets and board")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="load demo data and print how to log in")

    sub.add_parser("migrate", help="upgrade the database at DATABASE_URL to the newest schema")
    sub.add_parser("demo", help="load demo users, a project and tickets (idempotent)")

    user = sub.add_parser("user", help="manage users")
    user_sub = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    create = user_sub.add_parser("create", help="create a user")
    create.add_argument("email")
    create.add_argument("--password", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--admin", action="store_true", help="site administrator (owner rights everywhere)")
    deactivate = user_sub.add_parser(
        "deactivate", help="stop a user from signing in and end all their sessions and sockets now"
    )
    deactivate.add_argument("email")
    reactivate = user_sub.add_parser("reactivate", help="let a deactivated user sign in again")
    reactivate.add_argument("email")

    token = sub.add_parser("token", help="print an access token for a user (for scripts)")
    token.add_argument("email")
    token.add_argument("--ttl", type=int, default=None, help="lifetime in seconds (default ACCESS_TOKEN_TTL)")

    sub.add_parser("worker", help="run the webhook worker as its own process (until SIGTERM/SIGINT)")
    slack = sub.add_parser("slack", help="run the Slack bot as its own process")
    slack.add_argument("--host", default="127.0.0.1")
    slack.add_argument(
        "--port", type=int, default=3000, help="port for POST /slack/events (not used in Socket Mode)"
    )
    sub.add_parser("discord", help="run the Discord bot as its own process (until SIGTERM/SIGINT)")
    return parser


async def _migrate(settings: Settings) -> None:
    from hub.adapters.db.migrate import upgrade

    await upgrade(settings.database_url)


async def _demo(settings: Settings) -> None:
    from hub.context import build_context
    from hub.demo import load_demo

    context = build_context(settings)
    try:
        created = await load_demo(context)
    finally:
        await context.db.dispose()
    print("demo data loaded" if created else "demo data already present")


async def _create_user(settings: Settings, args: argparse.Namespace) -> None:
    from hub.context import build_context
    from hub.services import auth

    context = build_context(settings)
    try:
        async with context.uow() as uow:
            user = await auth.create_user(uow, args.email, args.password, args.name, is_admin=args.admin)
            await uow.commit()
    finally:
        await context.db.dispose()
    print(f"created user {user.id} <{user.email}>{' (admin)' if user.is_admin else ''}")


async def _set_active(settings: Settings, args: argparse.Namespace) -> None:
    """`user deactivate|reactivate EMAIL`. Running hubs see the change at once (every request and
    socket admission reads it) and close the user's open sockets within a second or so (the
    `session.revoked` event reaches them through their outbox poll)."""
    from hub.context import build_context
    from hub.services import auth

    context = build_context(settings)
    try:
        user_id = await auth.user_id_for_email(context.uow(), args.email)
        if args.user_command == "deactivate":
            user = await auth.deactivate_user(context.uow(), user_id, actor=None)
        else:
            user = await auth.reactivate_user(context.uow(), user_id, actor=None)
    finally:
        await context.db.dispose()
    print(f"{args.user_command}d user {user['id']} <{user['email']}>")


async def _token(settings: Settings, args: argparse.Namespace) -> None:
    from sqlalchemy import select

    from hub.adapters.db.models import User
    from hub.context import build_context
    from hub.services.auth import issue_access_token, normalize_email

    context = build_context(settings)
    try:
        async with context.uow() as uow:
            user = await uow.session.scalar(select(User).where(User.email == normalize_email(args.email)))
    finally:
        await context.db.dispose()
    if user is None:
        raise SystemExit(f"switchboard: no user with email {args.email}")
    if user.deactivated_at is not None:
        raise SystemExit(f"switchboard: user {args.email} is deactivated")
    # Session-less (no `sid`): ended by deactivation, a password change or "sign out everywhere".
    print(issue_access_token(context.tokens, user.id, args.ttl))


async def _worker(settings: Settings) -> None:
    from hub.webhooks.runner import run_worker

    if settings.is_sqlite:
        await _migrate(settings)
    await run_worker(settings)


async def _serve(settings: Settings, args: argparse.Namespace) -> None:
    from hub.app import create_app
    from hub.context import build_context
    from hub.demo import DEMO_PASSWORD, DEMO_USERS, load_demo
    from hub.server import serve_forever
    from hub.webhooks.runner import attach_worker

    if settings.is_sqlite:
        await _migrate(settings)
    context = build_context(settings)
    if args.demo:
        await load_demo(context)
        context.extras["demo_login"] = {"email": DEMO_USERS[0][0], "password": DEMO_PASSWORD}
    app = create_app(settings, context)
    if settings.webhook_in_process:
        attach_worker(app, context)  # the webhook worker runs in-process; the publisher wakes it
    url = f"http://{args.host}:{args.port}/"
    print(f"Switchboard is running at {url}  (API docs: {url}docs)", flush=True)
    if args.demo:
        print(f"Demo login: {DEMO_USERS[0][0]} / {DEMO_PASSWORD}", flush=True)
    await serve_forever(app, context, f"{args.host}:{args.port}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"switchboard: {exc}", file=sys.stderr)
        return 2
    from hub.observability.logs import configure

    configure(settings.log_level, settings.log_format)
    from hub.domain.errors import DomainError

    try:
        if args.command == "serve":
            asyncio.run(_serve(settings, args))
        elif args.command == "migrate":
            asyncio.run(_migrate(settings))
            print("database is up to date")
        elif args.command == "demo":
            if settings.is_sqlite:
                asyncio.run(_migrate(settings))
            asyncio.run(_demo(settings))
        elif args.command == "user" and args.user_command == "create":
            asyncio.run(_create_user(settings, args))
        elif args.command == "user":
            asyncio.run(_set_active(settings, args))
        elif args.command == "token":
            asyncio.run(_token(settings, args))
        elif args.command == "worker":
            asyncio.run(_worker(settings))
        elif args.command == "slack":
            from bots.slack.runtime import run_standalone

            asyncio.run(run_standalone(settings, host=args.host, port=args.port))
        elif args.command == "discord":
            from bots.discord.runtime import run_standalone as run_discord

            return asyncio.run(run_discord(settings))
    except ConfigError as exc:
        print(f"switchboard: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        print(f"switchboard: {exc.message}{' (' + detail + ')' if detail else ''}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
