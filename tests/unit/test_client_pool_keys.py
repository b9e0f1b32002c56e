"""The keyed client pool's own logic, on a made-up client kind: kept per settings and scope, placed where
asked when taken again, and a kept client that cannot be placed is closed, not handed out; a client made
ahead in the background is the one taken (its taker waits for it), and one that fails is not kept."""

from __future__ import annotations

import threading
import time

import pytest

from transforms.client_pool import ClientKind, ClientPool


class Client:
    def __init__(self, scope, at) -> None:
        self.scope, self.at, self.closed = scope, at, False


def bad_place(client: Client, scope, at) -> None:
    if at == "nowhere":
        raise OSError("cannot place")
    client.at = at


def close(client: Client) -> None:
    client.closed = True


KIND = ClientKind[Client](create=lambda kwargs, scope, at: Client(scope, at), position=bad_place, close=close)


def test_a_given_back_client_is_taken_again_placed_where_asked_and_only_for_its_settings_and_scope():
    pool = ClientPool(KIND)
    a = pool.take({"x": 1, "y": 2}, "p0", 5)
    pool.give({"y": 2, "x": 1}, a, "p0")  # same settings in another order: same key
    assert pool.take({"x": 1, "y": 2}, "p1", 0) is not a, "another scope gets its own"
    assert pool.take({"x": 2, "y": 2}, "p0", 0) is not a, "other settings get their own"
    again = pool.take({"x": 1, "y": 2}, "p0", 9)
    assert again is a and a.at == 9
    assert pool.take({"x": 1, "y": 2}, "p0", 9) is not a, "taken: not handed out twice"


def test_a_kept_client_that_cannot_be_placed_is_closed_and_the_error_raised():
    pool = ClientPool(KIND)
    a = pool.take({}, "p0", 1)
    pool.give({}, a, "p0")
    with pytest.raises(OSError):
        pool.take({}, "p0", "nowhere")
    assert a.closed and pool.idle({}, "p0") == []


def test_close_closes_every_idle_client_and_forgets_them():
    pool = ClientPool(KIND)
    clients = [pool.take({}, s, 0) for s in ("p0", "p0", "p1")]
    for c in clients:
        pool.give({}, c, c.scope)
    pool.close()
    assert all(c.closed for c in clients)
    assert pool.idle({}, "p0") == [] and pool.idle({}, "p1") == []


class Slow:
    """A client kind whose clients take until ``let_go`` is set to be made, counting those made and
    recording the ones connected."""

    def __init__(self, fail: bool = False) -> None:
        self.let_go = threading.Event()
        self.made: list[Client] = []
        self.connected: list[Client] = []
        self.fail = fail
        self.kind = ClientKind[Client](
            create=self.create, position=bad_place, close=close, connect=self.connect
        )

    def create(self, kwargs, scope, at) -> Client:
        self.let_go.wait(10)
        client = Client(scope, at)
        self.made.append(client)
        return client

    def connect(self, client: Client, scope) -> None:
        if self.fail:
            raise OSError("no leader")
        self.connected.append(client)


def test_a_client_made_ahead_is_the_one_taken_placed_and_connected_and_a_taker_waits_for_it():
    slow = Slow()
    pool = ClientPool(slow.kind)
    thread = pool.warm({"x": 1}, "p0", 5)
    assert thread is not None
    assert pool.warm({"x": 1}, "p0", 5) is None, "one is being made already"
    taken: list[Client] = []
    taker = threading.Thread(target=lambda: taken.append(pool.take({"x": 1}, "p0", 7)))
    taker.start()
    time.sleep(0.05)
    slow.let_go.set()
    taker.join(10)
    thread.join(10)
    assert len(slow.made) == 1, "the taker waited for the client made ahead, not made its own"
    assert taken == slow.made == slow.connected and taken[0].at == 7
    pool.give({"x": 1}, taken[0], "p0")
    assert pool.warm({"x": 1}, "p0", 9) is None, "one is kept already"
    assert pool.warm({"x": 1}, "p1", 9) is not None, "another scope gets its own"


def test_a_client_that_could_not_be_made_ahead_is_closed_and_the_taker_makes_its_own():
    slow = Slow(fail=True)
    slow.let_go.set()
    pool = ClientPool(slow.kind)
    pool.warm({}, "p0", 1).join(10)
    assert len(slow.made) == 1 and slow.made[0].closed and pool.idle({}, "p0") == []
    taken = pool.take({}, "p0", 2)
    assert taken is slow.made[1] and not taken.closed
