"""The bounded connection pool (analytics.arrow_pool) with real SQLite connections in place of
ADBC ones (the pool takes any connect callable): reuse, the size bound and the wait, idle expiry,
failures discarding the connection, and the one retry of a reused connection. The ADBC pool on
PostgreSQL is tested in tests/dashboards/test_arrow_connections_are_pooled.py."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from observatory.analytics import arrow_pool

URI = "db-one"


class Opened:
    """A connect callable that opens real SQLite connections and remembers them."""

    def __init__(self, fail=False):
        self.made: list[tuple[str, sqlite3.Connection]] = []
        self.fail = fail

    def __call__(self, uri):
        self.attempts = getattr(self, "attempts", 0) + 1
        if self.fail:
            raise sqlite3.OperationalError("cannot connect")
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        self.made.append((uri, conn))
        return conn


def _closed(conn) -> bool:
    try:
        conn.execute("SELECT 1")
    except sqlite3.ProgrammingError:
        return True
    return False


def _pool(opened, size=2, idle=60.0, wait=2.0):
    return arrow_pool.ArrowPool(opened, size=size, idle_seconds=idle, wait_seconds=wait)


def test_it_reuses_an_idle_connection_for_the_same_database():
    opened = Opened()
    pool = _pool(opened)
    with pool.connection(URI) as (first, reused):
        assert reused is False and pool.open_count == 1
    with pool.connection(URI) as (again, reused):
        assert again is first and reused is True
    assert len(opened.made) == 1 and pool.open_count == 1
    assert pool.run(URI, lambda c: c.execute("SELECT 41 + 1").fetchone()[0]) == 42


def test_it_hands_out_the_most_recently_released_connection_first():
    pool = _pool(Opened())
    with pool.connection(URI) as (outer, _):
        with pool.connection(URI) as (inner, _):
            assert inner is not outer and pool.open_count == 2
    with pool.connection(URI) as (next_one, _):
        assert next_one is outer  # released last
        with pool.connection(URI) as (other, reused):
            assert other is inner and reused is True
            assert pool.open_count == 2  # both checked out, none idle


def test_it_counts_a_reused_connection_as_busy_beside_another():
    pool = _pool(Opened())
    with pool.connection(URI) as (first, _):
        with pool.connection(URI):
            pass
        with pool.connection(URI) as (_, reused):
            assert reused is True and pool.open_count == 2
    assert pool.open_count == 2


def test_it_closes_an_idle_connection_to_another_database_or_one_idle_too_long():
    opened = Opened()
    pool = _pool(opened, idle=0.05)
    with pool.connection(URI) as (one, _):
        pass
    with pool.connection("db-two") as (two, reused):
        assert reused is False and two is not one
    assert _closed(one) and pool.open_count == 1
    assert [uri for uri, _ in opened.made] == [URI, "db-two"]
    time.sleep(0.2)
    with pool.connection("db-two") as (three, reused):
        assert reused is False and three is not two
    assert _closed(two)


# A broken pool must fail these tests, not hang them: every wait on another thread is bounded.
BOUND = 3.0


def _in_thread(fn):
    """Run `fn` in a thread; (finished within BOUND, its result or the exception it raised)."""
    out = {}

    def target():
        try:
            out["value"] = fn()
        except BaseException as exc:  # handed back to the test
            out["value"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(BOUND)
    return not thread.is_alive(), out.get("value")


def test_it_waits_for_a_busy_connection_and_then_reuses_it():
    pool = _pool(Opened(), size=1)
    got = {}
    held, release = threading.Event(), threading.Event()

    def holder():
        with pool.connection(URI) as (conn, _):
            got["held"] = conn
            held.set()
            release.wait(BOUND)

    thread = threading.Thread(target=holder, daemon=True)
    thread.start()
    assert held.wait(BOUND), "the first connection was never handed out"
    threading.Timer(0.2, release.set).start()
    started = time.monotonic()

    def second():
        with pool.connection(URI) as (conn, reused):
            return conn, reused

    finished, value = _in_thread(second)
    assert finished, "the waiting thread was never given the released connection"
    assert value == (got["held"], True)
    assert time.monotonic() - started >= 0.15
    thread.join(BOUND)
    assert not thread.is_alive()


def test_it_gives_up_when_every_connection_stays_busy():
    pool = _pool(Opened(), size=1, wait=0.3)
    with pool.connection(URI):
        started = time.monotonic()

        def blocked():
            with pool.connection(URI):
                return "got one"

        finished, value = _in_thread(blocked)
        assert finished, "the wait did not end at wait_seconds"
        assert isinstance(value, arrow_pool.PoolTimeout)
        assert str(value) == "all 1 Arrow connections stayed busy for 0 s"
        assert time.monotonic() - started >= 0.25
    assert pool.open_count == 1


def test_it_frees_the_place_of_a_connection_that_could_not_be_opened():
    pool = _pool(Opened(fail=True), size=1)
    with pytest.raises(sqlite3.OperationalError, match="cannot connect"):
        with pool.connection(URI):
            pass
    assert pool.open_count == 0


def test_it_closes_and_drops_a_connection_whose_query_failed():
    pool = _pool(Opened())
    with pytest.raises(ZeroDivisionError), pool.connection(URI) as (conn, _):
        raise ZeroDivisionError
    assert _closed(conn) and pool.open_count == 0


def test_it_retries_once_on_a_fresh_connection_when_a_reused_one_fails():
    opened = Opened()
    pool = _pool(opened)
    with pool.connection(URI) as (stale, _):
        pass
    calls = []

    def query(conn):
        calls.append(conn)
        if conn is stale:
            raise sqlite3.OperationalError("server closed the connection")
        return conn.execute("SELECT 'ok'").fetchone()[0]

    assert pool.run(URI, query, retry_on=(sqlite3.OperationalError,)) == "ok"
    assert calls[0] is stale and calls[1] is not stale and len(calls) == 2
    assert _closed(stale) and [uri for uri, _ in opened.made] == [URI, URI]


def test_it_does_not_retry_when_no_connection_could_be_opened():
    opened = Opened(fail=True)
    pool = _pool(opened)
    with pytest.raises(sqlite3.OperationalError, match="cannot connect"):
        pool.run(URI, lambda conn: "never", retry_on=(sqlite3.OperationalError,))
    assert opened.attempts == 1


def test_it_does_not_retry_a_fresh_connection_or_an_unlisted_error():
    pool = _pool(Opened())
    calls = []

    def failing(conn):
        calls.append(conn)
        raise sqlite3.OperationalError("bad query")

    with pytest.raises(sqlite3.OperationalError):
        pool.run(URI, failing, retry_on=(sqlite3.OperationalError,))
    assert len(calls) == 1
    with pool.connection(URI):
        pass
    with pytest.raises(sqlite3.OperationalError):
        pool.run(URI, failing)  # retry_on empty
    assert len(calls) == 2


def test_it_closes_every_idle_connection_on_request():
    pool = _pool(Opened())
    with pool.connection(URI) as (a, _), pool.connection(URI) as (b, _):
        pass
    pool.close_all()
    assert _closed(a) and _closed(b) and pool.open_count == 0
    arrow_pool._close_all([a])  # closing a closed connection again is harmless


def test_the_process_pool_is_one_and_sized_from_the_settings(settings):
    pool = arrow_pool.pool()
    assert arrow_pool.pool() is pool
    assert (pool.size, pool.idle_seconds, pool.wait_seconds) == (
        settings.ARROW_POOL_SIZE, settings.ARROW_POOL_IDLE_SECONDS, settings.ARROW_POOL_WAIT_SECONDS)
