"""Which sockets a `session.revoked` event closes (hub.realtime.sessions) and the fan-out's hook."""

from __future__ import annotations

from typing import Any

from hub.domain.identity import Actor
from hub.realtime import codes
from hub.realtime.connection import Connection
from hub.realtime.fanout import Fanout, envelope
from hub.services.accounts.auth import SESSION_REVOKED

ALICE, BOB = Actor(1, "Alice", "a@example.com"), Actor(2, "Bob", "b@example.com")


class Sink:
    async def send(self, data: str) -> None:
        pass

    async def close(self, code: int, reason: str = "") -> None:
        pass


def _conn(
    actor: Actor, session_id: str | None, *, kind: str = "tickets", issued_at: int = 1000
) -> Connection:
    project_id = None if kind == "notifications" else 7
    return Connection(Sink(), actor, 1e12, kind, project_id, {}, session_id=session_id, issued_at=issued_at)


def _fanout(*conns: Connection) -> Fanout:
    fanout = Fanout(None, None, {})  # type: ignore[arg-type]  # delivery needs neither
    for conn in conns:
        fanout.register(conn)
    return fanout


def _revoked(event_id: int, **payload: Any) -> dict[str, Any]:
    event = {
        "id": event_id,
        "project_id": None,
        "actor_id": None,
        "type": SESSION_REVOKED,
        "payload": payload,
        "created_at": None,
    }
    return envelope(event, [])


def test_one_session_ends_its_sockets_of_every_kind_and_no_other() -> None:
    a_tickets, a_notes = _conn(ALICE, "A"), _conn(ALICE, "A", kind="notifications")
    a_presence = _conn(ALICE, "A", kind="presence")
    other, scripted, bob = _conn(ALICE, "B"), _conn(ALICE, None), _conn(BOB, "A")
    fanout = _fanout(a_tickets, a_notes, a_presence, other, scripted, bob)
    fanout._deliver(_revoked(1, user_id=ALICE.id, session_id="A", reason="signed_out"))
    for conn in (a_tickets, a_notes, a_presence):
        assert (conn.closing, conn.close_code, conn.close_reason) == (
            True,
            codes.UNAUTHENTICATED,
            "signed out",
        )
    assert not other.closing
    assert not scripted.closing
    assert not bob.closing
    assert fanout.last_id == 1


def test_all_sessions_but_one_end_with_session_less_sockets_up_to_the_cut() -> None:
    keep, ended = _conn(ALICE, "KEEP"), _conn(ALICE, "OLD")
    old_script, new_script = _conn(ALICE, None, issued_at=1000), _conn(ALICE, None, issued_at=1001)
    fanout = _fanout(keep, ended, old_script, new_script)
    fanout._deliver(
        _revoked(
            1,
            user_id=ALICE.id,
            session_id=None,
            except_session_id="KEEP",
            issued_before=1000,
            reason="password_changed",
        )
    )
    assert not keep.closing
    assert ended.closing
    assert ended.close_reason == "session ended: the password was changed"
    assert old_script.closing
    assert not new_script.closing


def test_deactivation_ends_every_socket_of_the_user() -> None:
    conns = [_conn(ALICE, "A"), _conn(ALICE, None, issued_at=2_000_000_000), _conn(ALICE, "B")]
    bob = _conn(BOB, None)
    fanout = _fanout(*conns, bob)
    fanout._deliver(
        _revoked(1, user_id=ALICE.id, session_id=None, issued_before=None, reason="account_deactivated")
    )
    assert all(conn.closing and conn.close_code == codes.UNAUTHENTICATED for conn in conns)
    assert not bob.closing


def test_a_socket_checked_before_a_revocation_and_registered_after_it_is_caught() -> None:
    """Its database check ran before the logout committed; the event was delivered before it
    registered: the fan-out remembers the revocation for it."""
    fanout = _fanout()
    position = fanout.last_id
    fanout._deliver(_revoked(1, user_id=ALICE.id, session_id="A", reason="signed_out"))
    late, other = _conn(ALICE, "A"), _conn(ALICE, "B")
    fanout.register(late)
    fanout.register(other)
    assert fanout.ended_since(late, position) == "signed out"
    assert fanout.ended_since(other, position) is None
    # A socket whose check started after the revocation was delivered saw it in the database.
    assert fanout.ended_since(late, fanout.last_id) is None


def test_sockets_are_counted_per_user_across_kinds() -> None:
    conns = [_conn(ALICE, "A"), _conn(ALICE, "A", kind="notifications"), _conn(ALICE, "A", kind="presence")]
    fanout = _fanout(*conns)
    assert fanout.sockets_of(ALICE.id) == 3
    fanout.unregister(conns[0])
    fanout.unregister(conns[0])
    assert fanout.sockets_of(ALICE.id) == 2
    for conn in conns[1:]:
        fanout.unregister(conn)
    assert fanout.sockets_of(ALICE.id) == 0
