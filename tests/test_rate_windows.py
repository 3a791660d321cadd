"""The in-memory moving window, driven by a clock the test controls."""

from __future__ import annotations

from frontdesk.ratelimits.memory import SWEEP_BATCH, SWEEP_SECONDS, MemoryWindows
from frontdesk.ratelimits.verdict import reset_seconds


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_is_reached_exactly_at_n_and_refused_past_it():
    clock = Clock()
    windows = MemoryWindows(clock=clock)
    verdicts = []
    for _ in range(4):
        verdicts.append(windows.hit("k", 3))
        clock.now += 1
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert [v.remaining for v in verdicts] == [2, 1, 0, 0]
    assert [v.limit for v in verdicts] == [3, 3, 3, 3]
    # The oldest hit (t=1000) frees a request at t=1060; the refusal came at t=1003.
    assert verdicts[-1].reset_seconds == 57
    assert dict(verdicts[-1].raw_headers())[b"retry-after"] == b"57"
    assert b"retry-after" not in dict(verdicts[0].raw_headers())


def test_a_moving_window_frees_one_request_as_each_hit_ages_out():
    clock = Clock()
    windows = MemoryWindows(clock=clock)
    for _ in range(3):
        assert windows.hit("k", 3).allowed
        clock.now += 10  # hits at 1000, 1010, 1020
    clock.now = 1059.9
    assert not windows.hit("k", 3).allowed  # not a fixed minute: all three still count
    clock.now = 1060.0
    assert windows.hit("k", 3).allowed  # the hit at 1000 has left the window
    assert not windows.hit("k", 3).allowed
    clock.now = 1070.0
    assert windows.hit("k", 3).remaining == 0


def test_refused_hits_do_not_count():
    clock = Clock()
    windows = MemoryWindows(clock=clock)
    assert windows.hit("k", 1).allowed
    for _ in range(100):
        clock.now += 0.5
        assert not windows.hit("k", 1).allowed
    clock.now = 1060.0
    assert windows.hit("k", 1).allowed


def test_long_windows_stay_exact_while_expired_hits_are_dropped_in_bulk():
    """Checked against a plain list of every allowed hit, over many window lengths."""
    clock = Clock()
    windows = MemoryWindows(clock=clock)
    limit = 1000
    allowed_at: list[float] = []
    for i in range(6000):
        clock.now = 1000.0 + i * 0.045  # about 1333 attempts in any 60 s
        in_window = [t for t in allowed_at if t > clock.now - 60]
        verdict = windows.hit("k", limit)
        assert verdict.allowed == (len(in_window) < limit), i
        if verdict.allowed:
            allowed_at.append(clock.now)
            in_window.append(clock.now)
        assert verdict.remaining == limit - len(in_window), i
    # A lowered limit sees every hit still in the window.
    assert windows.hit("k", 5).remaining == 0


def test_keys_are_separate_and_idle_keys_are_swept():
    clock = Clock()
    windows = MemoryWindows(clock=clock)
    assert windows.hit("a", 1).allowed
    assert windows.hit("b", 1).allowed
    assert not windows.hit("a", 1).allowed
    clock.now += 30
    assert windows.hit("c", 1).allowed
    assert len(windows) == 3
    clock.now = 1000 + SWEEP_SECONDS + 1  # "a" and "b" idle past their window
    windows.hit("d", 1)
    assert len(windows) == 2  # "c" (still in its window) and "d"


def test_a_sweep_goes_a_few_keys_per_hit_and_spares_windows_in_use():
    clock = Clock()
    windows = MemoryWindows(clock=clock)
    for i in range(1000):
        windows.hit(f"idle-{i}", 5)
    clock.now += 50
    windows.hit("busy", 5)  # inside its window when the sweep runs
    clock.now = 1000 + SWEEP_SECONDS + 1  # the idle keys' only hit is 61 s old
    hits = 0
    while len(windows) > 2:  # "busy" and "caller" stay
        windows.hit("caller", 1000)
        hits += 1
        assert hits <= 1000 // SWEEP_BATCH + 2
    assert hits >= 1000 // SWEEP_BATCH  # spread over many hits, not one
    assert windows.hit("busy", 5).remaining == 3  # its first hit still counts


def test_reset_never_exceeds_the_window_whatever_the_clock_reads():
    # At this clock reading, `now + 60 - now` is 60.0000000000009 in floating point.
    clock = Clock()
    clock.now = 8161.962517661547
    assert (clock.now + 60.0) - clock.now > 60
    windows = MemoryWindows(clock=clock)
    first = windows.hit("k", 1)
    assert first.allowed and first.reset_seconds == 60
    refused = windows.hit("k", 1)
    assert not refused.allowed
    assert refused.reset_seconds == 60
    assert dict(refused.raw_headers())[b"retry-after"] == b"60"


def test_reset_seconds_is_clamped_to_zero_and_the_window():
    assert reset_seconds(60.0000000000009, 60.0) == 60
    assert reset_seconds(59.2, 60.0) == 60
    assert reset_seconds(58.9, 60.0) == 59
    assert reset_seconds(-0.5, 60.0) == 0
    assert reset_seconds(75.0, 60.0) == 60


def test_a_request_counts_in_every_window_or_in_none():
    # As the gate counts a poll: the address's cap and the visitor token's own window.
    clock = Clock()
    windows = MemoryWindows(clock=clock)
    first = windows.hit_each([(1, "cap"), (5, "token")])
    assert (first.allowed, first.limit, first.remaining) == (True, 5, 4)  # the last one's
    clock.now += 2
    capped = windows.hit_each([(1, "cap"), (5, "token")])
    assert (capped.allowed, capped.limit, capped.remaining) == (False, 1, 0)
    assert capped.reset_seconds == 58  # the cap's oldest hit, at t=1000
    assert windows.hit("token", 5).remaining == 3  # the refused request cost it nothing
    # The token's own window refusing costs the cap nothing either: neighbours share it.
    assert windows.hit_each([(3, "cap2"), (1, "token2")]).allowed
    refused = windows.hit_each([(3, "cap2"), (1, "token2")])
    assert (refused.allowed, refused.limit, refused.reset_seconds) == (False, 1, 60)
    neighbour = windows.hit_each([(3, "cap2"), (1, "token3")])
    assert (neighbour.allowed, neighbour.remaining) == (True, 0)
    assert windows.hit("cap2", 3).allowed  # two hits before this one, not three
