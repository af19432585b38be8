"""What the worker reports per attempt: the outcome under the retry schedule, and the event's lag."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.adapters.webhooks.sender import AttemptResult
from hub.webhooks.observe import event_lag, outcome_of

OK = AttemptResult(200, 5, None, "ok", None, True, False)
ERROR = AttemptResult(500, 5, None, "boom", None, False, False)
GONE = AttemptResult(410, 5, None, "", None, False, True)


@pytest.mark.parametrize(
    ("result", "step", "outcome"),
    [
        (OK, 0, "succeeded"),
        (OK, 2, "succeeded"),
        (ERROR, 0, "retrying"),
        (ERROR, 1, "retrying"),
        (ERROR, 2, "failed"),
        (GONE, 0, "dead"),
        (GONE, 2, "failed"),
    ],
)
def test_outcome_follows_the_schedule(result: AttemptResult, step: int, outcome: str) -> None:
    assert outcome_of(result, step, (1.0, 5.0)) == outcome


def test_lag_is_read_from_the_body_timestamp() -> None:
    body = '{"type":"ticket.created","timestamp":"2026-05-01T12:00:00.250000Z","event_id":4,"data":{}}'
    now = datetime(2026, 5, 1, 12, 0, 3, tzinfo=UTC).timestamp()
    assert event_lag(body, now) == pytest.approx(2.75)


@pytest.mark.parametrize(
    "body",
    [
        '{"type":"x","event_id":1}',
        '{"type":"x","timestamp":"yesterday"}',
        '{"timestamp":"2026-05-01T12:00:00"}',
    ],
)
def test_no_lag_without_a_usable_timestamp(body: str) -> None:
    assert event_lag(body, 0.0) is None
