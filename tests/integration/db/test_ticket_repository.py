"""The ticket repository's contract, run against both implementations: SQLite (stepwise) and
PostgreSQL (one statement). Whatever the statement, a refused create writes nothing, an allowed one
writes the ticket, its watchers and labels, and both report the same facts the same way."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from hub.adapters.db.models import Event, Membership, Project, Ticket, TicketLabel, TicketWatcher, User
from hub.adapters.db.types import utcnow
from hub.adapters.db.uow import UnitOfWork
from hub.context import HubContext
from hub.domain.enums import Role
from hub.domain.identity import Actor
from hub.domain.tickets import CreateAccess, NewTicket, Person
from hub.services import policy
from hub.services.policy import Action


@dataclass
class World:
    context: HubContext
    project: int
    #: A member of the project with each role.
    people: dict[Role, Actor]
    outsider: Actor
    site_admin: Actor

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.context.db)


@pytest.fixture
async def world(context: HubContext) -> World:
    async with UnitOfWork(context.db) as uow:
        users = {
            name: User(
                email=f"{name}@example.com", name=name.title(), password_hash="x", is_admin=name == "root"
            )
            for name in ("owner", "admin", "member", "viewer", "eve", "root")
        }
        project = Project(key="OPS", name="Operations")
        uow.session.add_all([*users.values(), project])
        await uow.session.flush()
        for role in Role:
            uow.session.add(Membership(project_id=project.id, user_id=users[role.value].id, role=role.value))
        await uow.session.commit()
        actors = {name: Actor.of(user) for name, user in users.items()}
        project_id = project.id
    return World(
        context,
        project_id,
        {role: actors[role.value] for role in Role},
        outsider=actors["eve"],
        site_admin=actors["root"],
    )


def new_ticket(world: World, reporter: Actor, **fields: object) -> NewTicket:
    values: dict[str, object] = {
        "project_id": world.project,
        "reporter": reporter,
        "title": "Rotate keys",
        "description": "",
        "status": "todo",
        "priority": "medium",
        "assignee_id": None,
        "labels": (),
        "watchers": (reporter.id,),
        "created_at": utcnow(),
        **fields,
    }
    return NewTicket(**values)  # type: ignore[arg-type]


async def counts(world: World) -> tuple[int, int, int, int, int]:
    """(tickets, watchers, labels, events, the project's ticket_seq)."""
    async with world.uow() as uow:
        session = uow.session
        seq = await session.scalar(select(Project.ticket_seq).where(Project.id == world.project))
        return (
            int(await session.scalar(select(func.count()).select_from(Ticket)) or 0),
            int(await session.scalar(select(func.count()).select_from(TicketWatcher)) or 0),
            int(await session.scalar(select(func.count()).select_from(TicketLabel)) or 0),
            int(await session.scalar(select(func.count()).select_from(Event)) or 0),
            int(seq or 0),
        )


async def test_an_allowed_create_writes_the_ticket_its_watchers_and_labels(world: World) -> None:
    author, assignee = world.people[Role.MEMBER], world.people[Role.VIEWER]
    new = new_ticket(
        world,
        author,
        assignee_id=assignee.id,
        labels=("db", "Backend", "api"),
        watchers=(author.id, assignee.id),
    )
    async with world.uow() as uow:
        added = await uow.tickets.add(new, policy.create_ticket_access(author))
        await uow.session.commit()
    assert added is not None
    assert (added.number, added.project_key, added.event_id) == (1, "OPS", None)
    assert added.assignee == Person(id=assignee.id, name=assignee.name, email=assignee.email)
    async with world.uow() as uow:
        stored = await uow.session.get(Ticket, added.id)
        assert stored is not None
        assert (stored.number, stored.title, stored.reporter_id, stored.assignee_id, stored.version) == (
            1,
            "Rotate keys",
            author.id,
            assignee.id,
            1,
        )
        watchers = await uow.session.scalars(
            select(TicketWatcher.user_id).where(TicketWatcher.ticket_id == added.id)
        )
        assert sorted(watchers) == [author.id, assignee.id]
        # The labels come back in the order a read returns them (the database's collation).
        read = await uow.session.scalars(
            select(TicketLabel.name).where(TicketLabel.ticket_id == added.id).order_by(TicketLabel.name)
        )
        assert added.labels == tuple(read)
        assert sorted(added.labels) == sorted(["db", "Backend", "api"])
    async with world.uow() as uow:
        again = await uow.tickets.add(new_ticket(world, author), policy.create_ticket_access(author))
        await uow.session.commit()
    assert again is not None
    assert again.number == 2
    assert again.assignee is None
    assert await counts(world) == (2, 3, 3, 0, 2)


@pytest.mark.parametrize("role", list(Role))
async def test_the_author_needs_a_role_the_policy_allows(world: World, role: Role) -> None:
    author = world.people[role]
    async with world.uow() as uow:
        added = await uow.tickets.add(new_ticket(world, author), policy.create_ticket_access(author))
        await uow.session.commit()
    assert (added is not None) is policy.can(role, Action.WRITE)
    assert await counts(world) == ((1, 1, 0, 0, 1) if added else (0, 0, 0, 0, 0))


async def test_refusals_write_nothing(world: World) -> None:
    member, admin = world.people[Role.MEMBER], world.people[Role.ADMIN]
    allowed = policy.create_ticket_access(member)
    refused = [
        (new_ticket(world, world.outsider), policy.create_ticket_access(world.outsider)),
        (new_ticket(world, member, assignee_id=world.outsider.id), allowed),
        (new_ticket(world, member, assignee_id=10**6), allowed),
        (new_ticket(world, member, project_id=10**6), allowed),
        # The rule is what the policy's values say, not something the repository knows itself.
        (
            new_ticket(world, admin),
            CreateAccess(roles=("owner",), without_membership=True, assignable=("owner",)),
        ),
        (
            new_ticket(world, member, assignee_id=world.people[Role.VIEWER].id),
            CreateAccess(
                roles=allowed.roles, without_membership=False, assignable=("owner", "admin", "member")
            ),
        ),
    ]
    for new, access in refused:
        async with world.uow() as uow:
            assert await uow.tickets.add(new, access) is None
            await uow.session.commit()
    assert await counts(world) == (0, 0, 0, 0, 0)


async def test_a_site_admin_without_a_membership_creates_as_the_policy_says(world: World) -> None:
    root = world.site_admin
    assert policy.create_ticket_access(root).without_membership is True
    async with world.uow() as uow:
        added = await uow.tickets.add(new_ticket(world, root), policy.create_ticket_access(root))
        absent = await uow.tickets.add(
            new_ticket(world, root, project_id=10**6), policy.create_ticket_access(root)
        )
        await uow.session.commit()
    assert added is not None
    assert added.number == 1
    assert absent is None
    assert await counts(world) == (1, 1, 0, 0, 1)


async def test_people_and_members(world: World) -> None:
    async with world.uow() as uow:
        people = await uow.tickets.people(world.project)
        viewer = await uow.tickets.member(world.project, world.people[Role.VIEWER].id)
        outsider = await uow.tickets.member(world.project, world.outsider.id)
    assert sorted(p.user_id for p in people) == sorted(a.id for a in world.people.values())
    assert viewer == (
        Person(id=world.people[Role.VIEWER].id, name="Viewer", email="viewer@example.com"),
        Role.VIEWER,
    )
    assert outsider is None


async def test_the_event_is_written_with_the_ticket_only_where_the_repository_can(world: World) -> None:
    author = world.people[Role.OWNER]
    draft = {"ticket": {"id": 0, "number": 0, "key": "-0", "labels": ["b", "a"], "title": "Rotate keys"}}
    event = UnitOfWork.event("ticket.created", project_id=world.project, actor_id=author.id, payload=draft)
    new = new_ticket(world, author, labels=("b", "a"))
    async with world.uow() as uow:
        repository = uow.tickets
        if not repository.writes_events_alone:
            with pytest.raises(ValueError, match="writes no events"):
                await repository.add(new, policy.create_ticket_access(author), event=event)
            return
        added = await repository.add(new, policy.create_ticket_access(author), event=event)
        # Nothing to commit here: the statement committed on its own connection.
    assert added is not None
    assert added.event_id is not None
    async with world.uow() as uow:
        stored = await uow.session.get(Event, added.event_id)
        assert stored is not None
        assert (stored.type, stored.project_id, stored.actor_id) == (
            "ticket.created",
            world.project,
            author.id,
        )
        assert stored.payload["ticket"] == {
            "id": added.id,
            "number": 1,
            "key": "OPS-1",
            "labels": ["a", "b"],
            "title": "Rotate keys",
        }
    assert await counts(world) == (1, 1, 2, 1, 1)
