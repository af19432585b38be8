"""Demo data: three people, one project, a handful of tickets. Loading twice changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from hub.adapters.db.models import User
from hub.context import HubContext
from hub.domain.identity import Actor
from hub.services.accounts import auth
from hub.services.projects import projects
from hub.services.tickets import comments, tickets

DEMO_PASSWORD = "switchboard-demo"
DEMO_USERS = (
    ("alice@example.com", "Alice Archer"),
    ("bob@example.com", "Bob Baker"),
    ("carol@example.com", "Carol Chen"),
)
DEMO_TICKETS = (
    ("Pager fires twice for one alert", "in_progress", "high", 1, ["oncall", "bug"]),
    ("Rotate the staging database password", "todo", "urgent", 0, ["security"]),
    ("Write the runbook for Redis failover", "todo", "medium", 2, ["docs"]),
    ("Dashboard shows stale queue depth", "in_review", "medium", 1, ["bug"]),
    ("Upgrade PostgreSQL to 16", "todo", "low", None, ["infra"]),
    ("Archive last quarter's incident notes", "done", "low", 2, ["docs"]),
)


async def load_demo(context: HubContext) -> bool:
    """Create the demo data unless it is there already. Returns True when it created it."""
    async with context.uow() as uow:
        if await uow.session.scalar(select(User.id).where(User.email == DEMO_USERS[0][0])) is not None:
            return False
    people = []
    for email, name in DEMO_USERS:
        people.append(Actor.of(await auth.register(context.uow(), email, DEMO_PASSWORD, name)))
    alice, bob, carol = people
    project = await projects.create_project(
        context.uow(), alice, "OPS", "Operations", "Keeping the lights on: incidents, upkeep, runbooks."
    )
    await projects.add_member(context.uow(), alice, project["id"], role="member", email=bob.email)
    await projects.add_member(context.uow(), alice, project["id"], role="viewer", email=carol.email)
    for title, status, priority, who, labels in DEMO_TICKETS:
        assignee = None if who is None else people[who].id
        if assignee == carol.id:
            assignee = bob.id
        ticket = await tickets.create_ticket(
            context.uow(),
            alice,
            project["id"],
            title=title,
            status=status,
            priority=priority,
            assignee_id=assignee,
            labels=labels,
        )
    await comments.add_comment(context.uow(), bob, ticket["id"], "Done, @alice — notes are in the wiki.")
    return True
