"""The keyed client pool's own logic, on a made-up client kind: kept per settings and scope, placed where
asked when taken again, and a kept client that cannot be placed is closed, not handed out."""

from __future__ import annotations

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
