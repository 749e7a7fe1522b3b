"""RateLimiter: a token bucket per key, driven by an injected clock."""

from __future__ import annotations

import pytest

from services.rate_limit import RateLimiter


class FakeClock:
    """A test double for time: it moves only when the test advances it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_a_full_burst_is_allowed_then_the_next_call_waits(clock: FakeClock) -> None:
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.acquire("acme") for _ in range(3)] == [None, None, None]
    assert limiter.acquire("acme") == pytest.approx(0.5)


def test_tokens_come_back_at_the_rate(clock: FakeClock) -> None:
    limiter = RateLimiter(rate=2.0, burst=2, clock=clock)
    limiter.acquire("acme")
    limiter.acquire("acme")
    clock.advance(0.25)
    assert limiter.acquire("acme") == pytest.approx(0.25)
    clock.advance(0.25)
    assert limiter.acquire("acme") is None
    assert limiter.acquire("acme") == pytest.approx(0.5)


def test_a_refused_call_takes_nothing_so_retrying_after_the_delay_succeeds(
    clock: FakeClock,
) -> None:
    limiter = RateLimiter(rate=0.5, burst=1, clock=clock)
    assert limiter.acquire("acme") is None
    for _ in range(5):
        wait = limiter.acquire("acme")
    assert wait == pytest.approx(2.0)
    clock.advance(2.0)
    assert limiter.acquire("acme") is None


def test_idle_time_never_saves_more_than_the_burst(clock: FakeClock) -> None:
    limiter = RateLimiter(rate=10.0, burst=2, clock=clock)
    limiter.acquire("acme")
    clock.advance(3600)
    assert [limiter.acquire("acme") for _ in range(3)][:2] == [None, None]
    assert limiter.acquire("acme") is not None


def test_each_key_has_its_own_bucket(clock: FakeClock) -> None:
    limiter = RateLimiter(rate=1.0, burst=1, clock=clock)
    assert limiter.acquire("acme") is None
    assert limiter.acquire("acme") is not None
    assert limiter.acquire("globex") is None


def test_a_clock_going_backwards_does_not_add_tokens(clock: FakeClock) -> None:
    limiter = RateLimiter(rate=1.0, burst=1, clock=clock)
    limiter.acquire("acme")
    clock.advance(-50)
    assert limiter.acquire("acme") == pytest.approx(1.0)


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 5), (-1.0, 5), (1.0, 0)])
def test_nonsense_settings_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate must be > 0 and burst >= 1"):
        RateLimiter(rate=rate, burst=burst)
