"""Socket admission in batches: a storm of connects costs a few queries, and each socket still gets
exactly its own answer (role, outsider, site admin, deleted user, bad token, database down)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, update

from hub.adapters.db.models import User
from hub.context import HubContext
from hub.domain.enums import Role
from hub.domain.errors import Unauthenticated
from hub.realtime.admission import Admissions
from hub.services.accounts.auth import issue_access_token
from tests.integration.test_queries import count_statements
from tests.support.api import Api


async def test_a_storm_of_connects_is_admitted_in_a_few_queries(api: Api, context: HubContext) -> None:
    owner = await api.user("Olive Owner")
    viewer, outsider = await api.user("Vera Viewer"), await api.user("Oscar Outsider")
    ops, web = (await api.project(owner, "OPS"))["id"], (await api.project(owner, "WEB"))["id"]
    await api.add(owner, ops, viewer, "viewer")
    admissions = Admissions(context.uow, context.tokens)
    requests = [(owner, ops), (viewer, ops), (viewer, web), (outsider, ops), (owner, None)] * 40

    with count_statements(context) as statements:
        results = await asyncio.gather(*(admissions.admit(user.token, pid) for user, pid in requests))

    expected = {
        (owner.id, ops): Role.OWNER,
        (viewer.id, ops): Role.VIEWER,
        (viewer.id, web): None,
        (outsider.id, ops): None,
        (owner.id, None): None,
    }
    for (user, pid), (actor, expires, role) in zip(requests, results, strict=True):
        assert actor.id == user.id
        assert actor.name == user.name
        assert expires > 0
        assert role == expected[(user.id, pid)], (user.name, pid)
    # 200 sockets arriving together: one batch, two queries (users, then memberships).
    assert admissions.batches == 1
    assert len(statements) == 2, "\n\n".join(statements)


async def test_a_lone_connect_is_not_held_back(api: Api, context: HubContext) -> None:
    owner = await api.user("Olive Owner")
    pid = (await api.project(owner))["id"]
    admissions = Admissions(context.uow, context.tokens)
    for _ in range(3):
        _actor, _expires, role = await asyncio.wait_for(admissions.admit(owner.token, pid), 5)
        assert role == Role.OWNER
    assert admissions.batches == 3


async def test_site_admins_see_existing_projects_as_owners(api: Api, context: HubContext) -> None:
    owner, admin = await api.user("Olive Owner"), await api.user("Ada Admin")
    pid = (await api.project(owner))["id"]
    async with context.uow() as uow:
        await uow.session.execute(update(User).where(User.id == admin.id).values(is_admin=True))
        await uow.commit()
    admissions = Admissions(context.uow, context.tokens)
    seen, missing = await asyncio.gather(
        admissions.admit(admin.token, pid), admissions.admit(admin.token, 9999)
    )
    assert (seen[0].is_admin, seen[2]) == (True, Role.OWNER)
    assert missing[2] is None


async def test_bad_tokens_and_deleted_users_are_refused_without_failing_the_batch(
    api: Api, context: HubContext
) -> None:
    owner, gone = await api.user("Olive Owner"), await api.user("Gus Gone")
    pid = (await api.project(owner))["id"]
    async with context.uow() as uow:
        await uow.session.execute(delete(User).where(User.id == gone.id))
        await uow.commit()
    admissions = Admissions(context.uow, context.tokens)
    expired = issue_access_token(context.tokens, owner.id, ttl=-10)
    results = await asyncio.gather(
        admissions.admit(owner.token, pid),
        admissions.admit(gone.token, pid),
        admissions.admit("not-a-jwt", pid),
        admissions.admit(expired, pid),
        return_exceptions=True,
    )
    assert not isinstance(results[0], BaseException)
    assert results[0][2] == Role.OWNER
    assert [str(r) if isinstance(r, Unauthenticated) else r for r in results[1:]] == [
        "invalid token",
        "invalid token",
        "token expired",
    ]


async def test_a_database_failure_reaches_every_waiting_socket(api: Api, context: HubContext) -> None:
    owner = await api.user("Olive Owner")
    pid = (await api.project(owner))["id"]
    admissions = Admissions(context.uow, context.tokens)
    await context.db.dispose()
    context.db.engine.pool._creator = _refuse  # type: ignore[attr-defined]  # the next connect fails
    with pytest.raises(ConnectionRefusedError):
        await asyncio.wait_for(asyncio.gather(*(admissions.admit(owner.token, pid) for _ in range(5))), 5)
    assert admissions._runner is None  # ready for the next storm


def _refuse(*_args: object) -> object:
    raise ConnectionRefusedError("database is down")
