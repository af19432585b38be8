"""The board's pure logic, run in the browser from its own modules: backoff, store merging, mentions."""

from __future__ import annotations

from tests.e2e.browser import require_playwright

require_playwright()  # before anything imports playwright: skip (or fail under CI) without it


def test_reconnect_backoff_grows_exponentially_with_jitter_and_a_cap(hub, open_page):
    board = open_page().open()
    delays = board.page.evaluate(
        """async () => {
            const { backoffDelay } = await import('/static/js/socket.js');
            const low = [...Array(12).keys()].map((n) => backoffDelay(n, () => 0));
            const high = [...Array(12).keys()].map((n) => backoffDelay(n, () => 1));
            const samples = new Set([...Array(20)].map(() => backoffDelay(3)));
            return { low, high, distinct: samples.size };
        }"""
    )
    assert delays["high"][:4] == [500, 1000, 2000, 4000]
    assert delays["low"][:4] == [250, 500, 1000, 2000]  # jitter: between half and all of the step
    assert max(delays["high"]) == 30_000  # capped, and it keeps trying at that pace forever
    assert delays["high"][-1] == 30_000
    assert delays["distinct"] > 1
    board.assert_no_console_errors()


def test_the_store_keeps_the_newest_version_whatever_the_order(hub, open_page):
    board = open_page().open()
    result = board.page.evaluate(
        """async () => {
            const { TicketStore } = await import('/static/js/store.js');
            const store = new TicketStore();
            const t = (id, version, status) => ({ id, version, status, title: `T${id}` });
            store.upsert(t(1, 3, 'done'));
            store.upsert(t(1, 2, 'todo'));                 // a late, older copy is ignored
            store.force({ ...t(2, 1, 'todo'), status: 'done', _optimistic: true });
            store.upsert(t(2, 1, 'todo'));                 // the pre-move copy never undoes a move
            store.beginSync();
            store.upsert(t(3, 1, 'todo'));                 // created while the reload was in flight
            store.remove(4);                               // deleted while it was in flight
            store.finishSync([t(1, 2, 'todo'), t(2, 1, 'todo'), t(4, 1, 'todo'), t(5, 1, 'in_review')]);
            return store.all().map((x) => [x.id, x.version, x.status]).sort((a, b) => a[0] - b[0]);
        }"""
    )
    assert result == [[1, 3, "done"], [2, 1, "done"], [3, 1, "todo"], [5, 1, "in_review"]]
    board.assert_no_console_errors()


def test_mention_handles_are_unambiguous(hub, open_page):
    board = open_page().open()
    handles = board.page.evaluate(
        """async () => {
            const { mentionHandle } = await import('/static/js/mentions.js');
            const members = [
                { user: { name: 'Alice Archer', email: 'alice@example.com' } },
                { user: { name: 'Bob Baker', email: 'bob@example.com' } },
                { user: { name: 'Bob Other', email: 'bob@other.org' } },
            ];
            return members.map((m) => mentionHandle(m.user, members));
        }"""
    )
    assert handles == ["alice", "bob@example.com", "bob@other.org"]
    board.assert_no_console_errors()
