"""The `switchboard` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence

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
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="hub processes sharing the port, e.g. one per core (N > 1 needs PostgreSQL and REDIS_URL)",
    )

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

    notify = sub.add_parser("notify", help="send a user a notification, live on every hub (hub.notify)")
    notify.add_argument("email")
    notify.add_argument("--title", required=True)
    notify.add_argument("--message", default="")
    notify.add_argument("--type", default="custom", help="notification_type (default custom)")
    notify.add_argument("--project", default=None, metavar="KEY", help="about this project (members only)")
    broadcast = sub.add_parser(
        "broadcast", help="send a message to every tickets socket of a project, on every hub (hub.broadcast)"
    )
    broadcast.add_argument("key", metavar="KEY")
    broadcast.add_argument("--type", required=True, help="what clients see as `event`")
    broadcast.add_argument("--data", default="{}", metavar="JSON", help="a JSON object (default {})")

    sub.add_parser("worker", help="run the webhook worker as its own process (until SIGTERM/SIGINT)")
    slack = sub.add_parser("slack", help="run the Slack bot as its own process")
    slack.add_argument("--host", default="127.0.0.1")
    slack.add_argument(
        "--port", type=int, default=3000, help="port for POST /slack/events (not used in Socket Mode)"
    )
    sub.add_parser("discord", help="run the Discord bot as its own process (until SIGTERM/SIGINT)")
    health = sub.add_parser(
        "healthcheck", help="exit 0 when this container's process is healthy (docs/operations.md)"
    )
    health.add_argument(
        "--process", choices=["hub", "worker", "slack", "discord"], default="hub", help="default: hub"
    )
    health.add_argument(
        "--url", default=None, help="hub only: what to GET (default http://127.0.0.1:8000/readyz)"
    )
    health.add_argument("--timeout", type=float, default=None, help="hub only: seconds (default 2)")
    health.add_argument(
        "--max-age", type=float, default=None, help="worker and bots: heartbeat age allowed (default 30 s)"
    )
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
    from hub.services.accounts import auth

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
    from hub.services.accounts import auth

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
    from hub.services.accounts.auth import issue_access_token, normalize_email

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


async def _push(settings: Settings, args: argparse.Namespace) -> None:
    """`notify` and `broadcast`: the Python API (hub.notify, hub.broadcast) from the command line.
    Running hubs deliver within about a second (their outbox poll)."""
    import json

    import hub
    from hub.context import build_context
    from hub.domain.errors import ValidationFailed
    from hub.services.accounts import auth
    from hub.services.projects.broadcast import project_id_for_key

    context = build_context(settings)
    try:
        if args.command == "notify":
            user_id = await auth.user_id_for_email(context.uow(), args.email)
            project_id = await project_id_for_key(context.uow(), args.project) if args.project else None
            event_id = await hub.notify(
                user_id, args.type, args.title, args.message, project_id=project_id, context=context
            )
            print(f"notified {args.email} (event {event_id})")
            return
        try:
            data = json.loads(args.data)
        except ValueError as exc:
            raise ValidationFailed("invalid broadcast", fields={"data": f"not JSON: {exc}"}) from None
        project_id = await project_id_for_key(context.uow(), args.key)
        event_id = await hub.broadcast(project_id, args.type, data, context=context)
        print(f"broadcast {args.type} to {args.key.upper()} (event {event_id})")
    finally:
        await context.db.dispose()


async def _worker(settings: Settings) -> None:
    from hub.webhooks.runner import run_worker

    if settings.is_sqlite:
        await _migrate(settings)
    await run_worker(settings)


def _warn_seed_settings() -> None:
    """A WARNING per setting of the Channels seed found in the environment or `.env`."""
    import logging
    import os
    from pathlib import Path

    from hub.config import seed_settings_in_use

    for line in seed_settings_in_use(os.environ, Path(".env")):
        logging.getLogger("hub.config").warning("%s", line)


def _positive(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError(f"{text} is not between 1 and 256")
    return value


def _serve_command(settings: Settings, args: argparse.Namespace) -> int:
    """`serve`: check the database and Redis, bind the port, then serve in this process or in
    `--workers` forked ones. Start-up failures end with one line on stderr and exit code 1."""
    from hub.demo import DEMO_PASSWORD, DEMO_USERS
    from hub.server import run_workers
    from hub.startup import BACKLOG, StartupError, bind_listener

    if args.workers > 1 and settings.is_sqlite:
        raise ConfigError(
            f"--workers {args.workers} needs PostgreSQL (DATABASE_URL=postgresql+asyncpg://…): "
            "SQLite takes writes from one process only; run one process on SQLite"
        )
    if args.workers > 1 and not (settings.redis_url or "").startswith(
        ("redis://", "rediss://", "redis+cluster://", "rediss+cluster://")
    ):
        raise ConfigError(
            f"--workers {args.workers} needs REDIS_URL=redis://…: workers share events and presence "
            "through Redis"
        )
    try:
        sock = bind_listener(args.host, args.port)  # a busy port is reported before anything else
        asyncio.run(_prepare_serve(settings, args))
    except StartupError as exc:
        print(f"switchboard: {exc}", file=sys.stderr)
        return 1
    sock.listen(BACKLOG)

    def announce() -> None:
        url = f"http://{args.host}:{args.port}/"
        workers = f", {args.workers} workers" if args.workers > 1 else ""
        print(f"Switchboard is running at {url}  (API docs: {url}docs{workers})", flush=True)
        if args.demo:
            print(f"Demo login: {DEMO_USERS[0][0]} / {DEMO_PASSWORD}", flush=True)

    if args.workers == 1:
        return _serve_worker(settings, args, sock.detach(), announce)
    return run_workers(
        args.workers, lambda ready: _serve_worker(settings, args, sock.detach(), ready), announce
    )


async def _prepare_serve(settings: Settings, args: argparse.Namespace) -> None:
    """Once per `serve`, before the port opens: migrate SQLite or wait for PostgreSQL, wait for
    Redis, load the demo data."""
    from hub.startup import StartupError, describe, preflight

    await preflight(settings)
    if args.demo:
        from hub.context import build_context
        from hub.demo import load_demo

        context = build_context(settings)
        try:
            await load_demo(context)
        except Exception as exc:
            raise StartupError(f"cannot load the demo data: {describe(exc)}") from None
        finally:
            await context.db.dispose()


def _serve_worker(
    settings: Settings, args: argparse.Namespace, fd: int, on_serving: Callable[[], None]
) -> int:
    """One hub on the listening socket `fd` until SIGTERM/SIGINT; 1 if it could not start."""
    from hub.startup import describe

    serving: list[bool] = []

    def started() -> None:
        serving.append(True)
        on_serving()

    try:
        asyncio.run(_serve(settings, args, fd, started))
    except Exception as exc:
        if serving:
            raise
        print(f"switchboard: cannot start: {describe(exc)}", file=sys.stderr, flush=True)
        return 1
    return 0


async def _serve(
    settings: Settings, args: argparse.Namespace, fd: int, on_serving: Callable[[], None]
) -> None:
    from hub.app import create_app
    from hub.context import DemoLogin, build_context
    from hub.demo import DEMO_PASSWORD, DEMO_USERS
    from hub.server import serve_forever
    from hub.webhooks.runner import attach_worker

    context = build_context(settings)
    if args.demo:
        context.demo_login = DemoLogin(email=DEMO_USERS[0][0], password=DEMO_PASSWORD)
    app = create_app(settings, context)
    if settings.webhook_in_process:
        attach_worker(app, context)  # the webhook worker runs in-process; the publisher wakes it
    await serve_forever(app, context, f"fd://{fd}", on_serving=on_serving)


def _healthcheck(settings: Settings, args: argparse.Namespace) -> int:
    from hub.observability import health

    if args.process == "hub":
        problem = health.check_hub(args.url or health.HUB_URL, args.timeout or health.TIMEOUT)
    else:
        path = health.heartbeat_path(settings.heartbeat_dir, args.process)
        problem = health.check_heartbeat(path, health.MAX_AGE if args.max_age is None else args.max_age)
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    print(f"{args.process} is healthy")
    return 0


def _migrate_command(settings: Settings, args: argparse.Namespace) -> int:
    asyncio.run(_migrate(settings))
    print("database is up to date")
    return 0


def _demo_command(settings: Settings, args: argparse.Namespace) -> int:
    if settings.is_sqlite:
        asyncio.run(_migrate(settings))
    asyncio.run(_demo(settings))
    return 0


def _user_command(settings: Settings, args: argparse.Namespace) -> int:
    if args.user_command == "create":
        asyncio.run(_create_user(settings, args))
    else:
        asyncio.run(_set_active(settings, args))
    return 0


def _token_command(settings: Settings, args: argparse.Namespace) -> int:
    asyncio.run(_token(settings, args))
    return 0


def _push_command(settings: Settings, args: argparse.Namespace) -> int:
    asyncio.run(_push(settings, args))
    return 0


def _worker_command(settings: Settings, args: argparse.Namespace) -> int:
    asyncio.run(_worker(settings))
    return 0


def _slack_command(settings: Settings, args: argparse.Namespace) -> int:
    from bots.slack.runtime import run_standalone

    asyncio.run(run_standalone(settings, host=args.host, port=args.port))
    return 0


def _discord_command(settings: Settings, args: argparse.Namespace) -> int:
    from bots.discord.runtime import run_standalone as run_discord

    return asyncio.run(run_discord(settings))


#: Each command's runner: it returns the process's exit status.
_COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "serve": _serve_command,
    "migrate": _migrate_command,
    "demo": _demo_command,
    "user": _user_command,
    "token": _token_command,
    "notify": _push_command,
    "broadcast": _push_command,
    "worker": _worker_command,
    "slack": _slack_command,
    "healthcheck": _healthcheck,
    "discord": _discord_command,
}
#: The long-running processes, which warn at start-up about settings still at their seed values.
_PROCESSES = ("serve", "worker", "slack", "discord")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"switchboard: {exc}", file=sys.stderr)
        return 2
    from hub.observability.logs import configure

    configure(settings.log_level, settings.log_format)
    if args.command in _PROCESSES:
        _warn_seed_settings()
    from hub.domain.errors import DomainError

    command = _COMMANDS.get(args.command)
    try:
        return command(settings, args) if command is not None else 0
    except ConfigError as exc:
        print(f"switchboard: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        print(f"switchboard: {exc.message}{' (' + detail + ')' if detail else ''}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
