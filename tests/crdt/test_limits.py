"""The token bucket behind the presence and sync-request limits (crdt/limits.py).

| what a client does                                  | what the bucket says                     |
|-----------------------------------------------------|------------------------------------------|
| sends `burst` at once                               | yes to each                              |
| sends one more at once                              | no                                       |
| waits 1/rate seconds                                | yes to one more                          |
| stays idle for long                                 | `burst` again, never more                |
| asks whether there is room (`ready`)                | nothing is taken                         |
| takes several at once (`take(n)`)                   | all of them or none                      |
"""

from __future__ import annotations

import time

from crdt.limits import PresenceLimits, TokenBucket


def test_a_burst_then_nothing():
    bucket = TokenBucket(0.001, 5)
    assert all(bucket.take() for _ in range(5))
    assert not bucket.take()
    assert not bucket.ready()


def test_it_refills_at_its_rate_up_to_the_burst():
    bucket = TokenBucket(50.0, 3)
    assert all(bucket.take() for _ in range(3))
    assert not bucket.take()
    time.sleep(0.03)  # 1.5 tokens' worth
    assert bucket.take()
    assert not bucket.take()
    time.sleep(0.2)  # ten tokens' worth, but it holds three
    assert all(bucket.take() for _ in range(3))
    assert not bucket.take()


def test_ready_takes_nothing_and_take_is_all_or_nothing():
    bucket = TokenBucket(0.001, 4)
    assert bucket.ready() and bucket.ready(4)
    assert not bucket.take(5)
    assert bucket.take(3)
    assert not bucket.take(2)
    assert bucket.take(1)
    assert not bucket.ready()


def test_spend_after_idle_does_not_refill_the_idle_time_twice():
    bucket = TokenBucket(10.0, 2)
    time.sleep(0.05)  # idle while full: nothing accrues beyond the burst
    assert bucket.ready()
    bucket.spend()
    bucket.spend()
    assert not bucket.take()  # an instant later: empty (0.05 s of idling was not banked)


def test_the_defaults_leave_room_for_a_browser():
    limits = PresenceLimits()
    assert limits.states_per_frame >= 8  # its own state, and its other tabs' (BroadcastChannel)
    assert limits.state_bytes >= 10 * 350  # a real state is 250-400 bytes
    assert limits.burst >= 240  # a second of a drag-selection on a 240 Hz display
    assert limits.sync_burst >= 2  # one sync step 1 per connection, and then some
    assert limits.relay_state_bytes > limits.state_bytes
