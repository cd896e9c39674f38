"""A small bounded pool of ADBC (Arrow) PostgreSQL connections, shared by every thread of a process.

Why a pool and not a connection per thread: `runserver` (and any thread-per-request server) starts
a new thread for each request, so a per-thread connection is one more idle PostgreSQL backend per
request, until `max_connections` is gone for every client of that server. Why not connect per
query: an ADBC connect costs about 175 ms here (the driver reads the type catalogue), against
0.7 ms for a query on an open connection (measured on the test machine, local PostgreSQL 16).

At most `size` connections exist at once; a thread that finds them all busy waits for one (ADBC
connections must not be used by two threads at once, so each is checked out whole). A connection
idle longer than `idle_seconds` is closed, so a quiet process gives its backends back. One that
failed is closed, never reused; a query that fails with OperationalError on a reused connection
(the server restarted, or an administrator terminated the backend) is retried once on a fresh one.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
from collections.abc import Callable, Iterator


class PoolTimeout(RuntimeError):
    """Every connection stayed busy for the whole wait."""


class ArrowPool:
    def __init__(self, connect: Callable[[str], object], *, size: int, idle_seconds: float, wait_seconds: float):
        self._connect = connect
        self.size = size
        self.idle_seconds = idle_seconds
        self.wait_seconds = wait_seconds
        self._cond = threading.Condition()
        self._idle: list[tuple[object, str, float]] = []  # (connection, uri, last released at)
        self._busy = 0  # checked out, or being opened

    @property
    def open_count(self) -> int:
        with self._cond:
            return self._busy + len(self._idle)

    def _expire(self, now: float, uri: str) -> list:
        """Take out the idle connections that are too old or for another database (caller holds the lock)."""
        keep, drop = [], []
        for entry in self._idle:
            conn, conn_uri, released = entry
            (drop if conn_uri != uri or now - released > self.idle_seconds else keep).append(entry)
        self._idle = keep
        return [conn for conn, _, _ in drop]

    def _acquire(self, uri: str) -> tuple[object, bool]:
        """(connection, reused): an idle one for `uri`, else a new one once there is room."""
        deadline = time.monotonic() + self.wait_seconds
        with self._cond:
            while True:
                stale = self._expire(time.monotonic(), uri)
                if self._idle:
                    conn, _, _ = self._idle.pop()  # the most recently used: the warmest
                    self._busy += 1
                    break
                if self._busy < self.size:
                    conn = None
                    self._busy += 1
                    break
                _close_all(stale)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise PoolTimeout(f"all {self.size} Arrow connections stayed busy for {self.wait_seconds:.0f} s")
                self._cond.wait(remaining)
        _close_all(stale)  # outside the lock: closing talks to the server
        if conn is not None:
            return conn, True
        try:
            return self._connect(uri), False
        except BaseException:
            self._give_back(None, uri)
            raise

    def _give_back(self, conn, uri: str) -> None:
        with self._cond:
            self._busy -= 1
            if conn is not None:
                self._idle.append((conn, uri, time.monotonic()))
            self._cond.notify()

    @contextlib.contextmanager
    def connection(self, uri: str) -> Iterator[tuple[object, bool]]:
        """Check a connection out for one query: yields (connection, reused). A failure discards it."""
        conn, reused = self._acquire(uri)
        try:
            yield conn, reused
        except BaseException:
            _close_all([conn])
            self._give_back(None, uri)
            raise
        self._give_back(conn, uri)

    def run(self, uri: str, query: Callable[[object], object], retry_on: tuple[type[BaseException], ...] = ()):
        """`query(connection)` on a pooled connection; once more on a fresh one if a reused one fails with `retry_on`."""
        reused = False
        try:
            with self.connection(uri) as (conn, reused):
                return query(conn)
        except retry_on:
            if not reused:
                raise  # a fresh connection's failure is the query's or the server's: no second try
            self.close_all()  # a restarted server or a mass termination left the idle ones dead too
        # The failed connection was closed; the retry opens a new one (or takes one another thread
        # released meanwhile, which has just been used and is as good).
        with self.connection(uri) as (conn, _):
            return query(conn)

    def close_all(self) -> None:
        """Close the idle connections (busy ones close when their thread gives them back)."""
        with self._cond:
            idle, self._idle = [conn for conn, _, _ in self._idle], []
        _close_all(idle)


def _close_all(connections) -> None:
    for conn in connections:
        try:
            conn.close()
        except Exception:  # already broken: nothing left to close
            pass


_pool: ArrowPool | None = None
_pool_lock = threading.Lock()


def pool() -> ArrowPool:
    """The process's pool, sized from the settings on first use."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                import adbc_driver_postgresql.dbapi as adbc
                from django.conf import settings

                _pool = ArrowPool(lambda uri: adbc.connect(uri, autocommit=True),
                                  size=settings.ARROW_POOL_SIZE, idle_seconds=settings.ARROW_POOL_IDLE_SECONDS,
                                  wait_seconds=settings.ARROW_POOL_WAIT_SECONDS)
                atexit.register(_pool.close_all)
    return _pool
