"""Retry schedule parsing, jittered delays and Retry-After handling."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from hub.adapters.webhooks.schedule import (
    DEFAULT_SCHEDULE,
    RETRY_AFTER_CAP_SECONDS,
    next_delay,
    parse_schedule,
    retry_after_seconds,
)

NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)


class _FixedUniform(random.Random):
    """An RNG whose ``uniform(a, b)`` always returns ``a`` or ``b``, to expose the jitter bounds."""

    def __init__(self, pick_high: bool) -> None:
        super().__init__(0)
        self.pick_high = pick_high

    def uniform(self, a: float, b: float) -> float:
        return b if self.pick_high else a


def test_default_schedule_starts_fast_and_spans_about_three_days() -> None:
    assert DEFAULT_SCHEDULE[:3] == (5, 300, 1800)
    assert list(DEFAULT_SCHEDULE) == sorted(DEFAULT_SCHEDULE)
    assert 2.5 * 86400 <= sum(DEFAULT_SCHEDULE) <= 3.5 * 86400


def test_default_schedule_round_trips_through_parse() -> None:
    text = ",".join(str(delay) for delay in DEFAULT_SCHEDULE)
    assert parse_schedule(text) == tuple(float(delay) for delay in DEFAULT_SCHEDULE)


def test_parse_schedule_accepts_spaces_and_fractions() -> None:
    assert parse_schedule(" 5, 300 ,1.5") == (5.0, 300.0, 1.5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "at least one delay"),
        ("   ", "at least one delay"),
        ("5,abc,10", r"item 2 \('abc'\)"),
        ("5,,10", r"item 2 \(''\)"),
        ("5,10,", r"item 3 \(''\)"),
        ("0", r"item 1 \('0'\)"),
        ("5,-3", r"item 2 \('-3'\)"),
        ("nan", r"item 1 \('nan'\)"),
        ("5,inf", r"item 2 \('inf'\)"),
    ],
)
def test_parse_schedule_names_the_bad_item(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_schedule(text)


@pytest.mark.parametrize("attempt", range(1, len(DEFAULT_SCHEDULE) + 1))
def test_next_delay_jitter_is_plus_minus_twenty_percent(attempt: int) -> None:
    base = DEFAULT_SCHEDULE[attempt - 1]
    assert next_delay(DEFAULT_SCHEDULE, attempt, _FixedUniform(pick_high=False)) == pytest.approx(base * 0.8)
    assert next_delay(DEFAULT_SCHEDULE, attempt, _FixedUniform(pick_high=True)) == pytest.approx(base * 1.2)


def test_next_delay_samples_stay_in_bounds_and_actually_vary() -> None:
    rng = random.Random(1234)
    samples = [next_delay((100.0,), 1, rng) for _ in range(500)]
    assert all(sample is not None and 80.0 <= sample <= 120.0 for sample in samples)
    values = [sample for sample in samples if sample is not None]
    assert min(values) < 85.0
    assert max(values) > 115.0


def test_next_delay_uses_the_attempt_number_as_a_one_based_index() -> None:
    schedule = (10.0, 1000.0)
    first = next_delay(schedule, 1, random.Random(7))
    second = next_delay(schedule, 2, random.Random(7))
    assert first is not None
    assert 8.0 <= first <= 12.0
    assert second is not None
    assert 800.0 <= second <= 1200.0


def test_next_delay_default_rng_is_within_bounds() -> None:
    delay = next_delay(DEFAULT_SCHEDULE, 2)
    assert delay is not None
    assert 240.0 <= delay <= 360.0


def test_next_delay_returns_none_when_schedule_is_exhausted() -> None:
    assert next_delay(DEFAULT_SCHEDULE, len(DEFAULT_SCHEDULE)) is not None
    assert next_delay(DEFAULT_SCHEDULE, len(DEFAULT_SCHEDULE) + 1) is None
    assert next_delay((), 1) is None


def test_next_delay_rejects_zero_attempts() -> None:
    with pytest.raises(ValueError, match="1-based"):
        next_delay(DEFAULT_SCHEDULE, 0)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("86400", 86400.0),
        ("1000000", RETRY_AFTER_CAP_SECONDS),
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
    ],
)
def test_retry_after_seconds_delta(header: str | None, expected: float | None) -> None:
    assert retry_after_seconds(header, NOW) == expected


def test_retry_after_seconds_http_date() -> None:
    header = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    assert header.endswith("GMT")
    assert retry_after_seconds(header, NOW) == 90.0


def test_retry_after_seconds_literal_http_date() -> None:
    assert retry_after_seconds("Sat, 14 Mar 2026 15:10:00 GMT", NOW) == 34.0


def test_retry_after_seconds_http_date_in_the_past_is_zero() -> None:
    header = format_datetime(NOW - timedelta(hours=1), usegmt=True)
    assert retry_after_seconds(header, NOW) == 0.0


def test_retry_after_seconds_http_date_is_capped_at_one_day() -> None:
    header = format_datetime(NOW + timedelta(days=30), usegmt=True)
    assert retry_after_seconds(header, NOW) == RETRY_AFTER_CAP_SECONDS


def test_retry_after_seconds_naive_now_is_utc() -> None:
    header = format_datetime(NOW + timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds(header, NOW.replace(tzinfo=None)) == 30.0
