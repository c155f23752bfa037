"""The load generator: one thread, raw non-blocking sockets, HTTP/1.1 keep-alive, a precise schedule.

Open loop: request k is due at t0 + k/rate whatever happened before; its latency is measured from that
intended start, so a stall is charged to every request it delayed (no coordinated omission). When no
connection is free a new one is opened (up to `connections`); past that, requests queue and the wait is
charged too. The generator's own lag (due -> picked up) is measured separately: it is what says whether
the generator, not the server, set the pace.

Why not asyncio or an HTTP library: the per-request cost of a Future, a StreamReader and a parsed
response object caps one core far below the rate this needs; here a request is a prebuilt byte string,
one send() and one recv(). The wake-up is a timerfd armed at the next due time (epoll's own timeout
is rounded up to whole milliseconds, which would add up to 1 ms to every latency).
"""

from __future__ import annotations

import errno
import os
import select
import socket
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from perfpack.load.plan import Plan, RequestSpec

MAX_HEAD = 64 * 1024
# poll's flag values, which epoll shares on Linux (and which exist where epoll does not)
_IN, _OUT, _ERR, _HUP = select.POLLIN, select.POLLOUT, select.POLLERR, select.POLLHUP
_GRACE_NS = 1_000_000_000  # how long past the window a late generator may still send what was due in it
_CHUNKED = -1
_UNTIL_CLOSE = -2
_IDLE, _CONNECTING, _BUSY = 0, 1, 2


def quantize_us(us: int) -> int:
    """Round microseconds the way a 3-significant-digit HdrHistogram stores them (cheap on the hot path)."""
    if us < 2048:
        return us if us > 0 else 1
    shift = us.bit_length() - 11
    return (us >> shift) << shift


@dataclass
class Counts:
    """What a run measured, in plain counters (merged across workers, turned into a summary by result.py)."""

    mode: str
    target_rate: float | None
    duration_s: float  # the measured window (warm-up excluded), as planned
    measured_s: float = 0.0  # the part of the window that really ran (less when interrupted)
    latency_us: dict[int, int] = field(default_factory=dict)  # quantized latency -> count
    lag_us: dict[int, int] = field(default_factory=dict)  # generator lag (due -> picked up) -> count
    by_name: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {"n", "errors", "latency_us"}
    errors: dict[str, int] = field(default_factory=dict)  # kind -> count
    requests: int = 0  # finished requests (ok or error) whose intended start was in the window
    sent: int = 0  # requests due in the window that were started: written, or their connection begun
    # a least-squares fit of their send times (s from the window start) on their order: n, Sx, Sy, Sxx, Sxy.
    # Its slope is the achieved rate: a generator falling behind stretches it; one late wake-up or a
    # catch-up burst barely moves it (endpoints alone would make short runs noisy).
    send_fit: list[float] = field(default_factory=lambda: [0.0] * 6)  # ..., and Syy
    merged_rate: list[float] | None = None  # [rate, its standard error] summed over workers' parts

    def achieved_rate(self) -> float:
        return self.rate_and_error()[0]

    def rate_and_error(self) -> tuple[float, float]:
        """(achieved requests/s, its standard error): the fit's slope, and how well the sends fit a line.
        Jitter in a short run gives a wide error; a generator steadily falling behind does not."""
        if self.merged_rate is not None:
            return self.merged_rate[0], self.merged_rate[1]
        if self.mode == "closed":  # no schedule to keep: the throughput is what finished in the window
            window = self.measured_s or self.duration_s
            return (self.requests / window if window else 0.0), 0.0
        n, sx, sy, sxx, sxy, syy = (self.send_fit + [0.0])[:6]
        sxx_c = sxx - sx * sx / n if n else 0.0
        if n >= 3 and sxx_c > 0:
            slope = (sxy - sx * sy / n) / sxx_c  # seconds per request
            if slope > 0:
                residual = max(0.0, (syy - sy * sy / n) - slope * slope * sxx_c)
                slope_error = (residual / (n - 2) / sxx_c) ** 0.5
                return 1.0 / slope, slope_error / (slope * slope)
        window = self.measured_s or self.duration_s
        return (self.sent / window if window else 0.0), 0.0

    scheduled: int = 0  # requests due inside the window
    not_sent: int = 0  # due in the window but never picked up: the generator was still behind at its end
    unfinished: int = 0  # in flight when the run was interrupted: not counted
    waited_for_connection: int = 0  # requests that waited because every allowed connection was busy
    connections_opened: int = 0
    max_in_flight: int = 0
    cpu_s: float = 0.0  # the generator's CPU time (user + system) while the measured window ran
    wall_s: float = 0.0  # the window's wall time (cpu_s / wall_s = cores used)
    workers: int = 1
    interrupted: bool = False
    timer: str = "timerfd"
    # the open-loop schedule: request k is due at schedule_start_ns + int(k * interval_ns)
    # (CLOCK_MONOTONIC ns); those due in [window_start_ns, window_end_ns) are measured
    schedule_start_ns: int = 0
    interval_ns: float = 0.0
    window_start_ns: int = 0
    window_end_ns: int = 0


class _Conn:
    __slots__ = (
        "body_left",
        "buf",
        "due",
        "fd",
        "got",
        "keep",
        "measured",
        "out",
        "retried",
        "reused",
        "sent",
        "sock",
        "spec",
        "state",
        "status",
    )

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.state = _CONNECTING
        self.spec: RequestSpec | None = None
        self.due = 0
        self.sent = 0
        self.buf = b""
        self.body_left: int | None = None
        self.status = 0
        self.keep = True
        self.reused = False
        self.retried = False
        self.out = b""
        self.measured = False
        self.got = False


class _ProtocolError(Exception):
    pass


def _sequence(requests: list[RequestSpec]) -> list[RequestSpec]:
    """One cycle of smooth weighted round robin: exact proportions, evenly interleaved."""
    if len(requests) == 1:
        return requests
    total = sum(r.weight for r in requests)
    current = [0] * len(requests)
    out = []
    for _ in range(total):
        for i, r in enumerate(requests):
            current[i] += r.weight
        best = max(range(len(requests)), key=lambda i: current[i])
        current[best] -= total
        out.append(requests[best])
    return out


class _Timer:
    """A CLOCK_MONOTONIC timerfd armed at absolute nanoseconds (same clock as time.monotonic_ns)."""

    def __init__(self) -> None:
        import ctypes

        class _TS(ctypes.Structure):
            _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]

        class _ITS(ctypes.Structure):
            _fields_ = [("it_interval", _TS), ("it_value", _TS)]

        libc = ctypes.CDLL(None, use_errno=True)
        self._settime = libc.timerfd_settime
        fd = libc.timerfd_create(1, os.O_NONBLOCK | os.O_CLOEXEC)  # CLOCK_MONOTONIC
        if fd < 0:
            raise OSError(ctypes.get_errno(), "timerfd_create")
        self.fd = fd
        self._spec = _ITS()
        self._ref = ctypes.byref(self._spec)
        self.armed = -1

    def arm(self, at_ns: int) -> None:
        """Fire at monotonic `at_ns` (0 disarms). Re-arming also clears a pending expiry."""
        value = self._spec.it_value
        value.tv_sec, value.tv_nsec = divmod(at_ns, 1_000_000_000) if at_ns > 0 else (0, 0)
        self._settime(self.fd, 1, self._ref, None)  # TFD_TIMER_ABSTIME
        self.armed = at_ns

    def close(self) -> None:
        os.close(self.fd)


class Engine:
    """One run of a Plan. `run()` returns Counts; `stop()` (e.g. from a SIGINT handler) ends it early."""

    def __init__(self, plan: Plan, *, progress: Any = None) -> None:
        self.plan = plan
        self.progress = progress  # callable(seconds_done, counts) once a second, or None
        self._stop = False
        self.addr = _resolve(plan.target.host, plan.target.port)

    def stop(self) -> None:
        self._stop = True

    # -- the run ---------------------------------------------------------------------------------

    def run(self) -> Counts:
        plan = self.plan
        counts = Counts(plan.mode, plan.rate if plan.mode == "open" else None, plan.duration_s)
        self.counts = counts
        try:
            self.ep: Any = select.epoll()
        except AttributeError:  # not Linux: a portable poll with whole-millisecond wake-ups
            self.ep = None
        self.timer: _Timer | None = None
        if self.ep is not None:
            try:
                self.timer = _Timer()
                self.ep.register(self.timer.fd, _IN)
            except (OSError, AttributeError):
                self.timer = None
        if self.timer is None:
            counts.timer = "poll (1 ms resolution)"
            self.ep = self.ep or _PollShim()
        self.conns: dict[int, _Conn] = {}
        self.idle: list[_Conn] = []
        self.queue: deque[tuple[RequestSpec, int, bool]] = deque()
        self.cycle = _sequence(plan.requests)
        self.busy = 0
        self._cpu_mark: list[
            tuple[float, int]
        ] = []  # (process time, monotonic ns) at the window's start and end
        try:
            if plan.mode == "open":
                self._open_loop(counts)
            else:
                self._closed_loop(counts)
        finally:
            for c in list(self.conns.values()):
                self._close(c)
            if self.timer is not None:
                self.timer.close()
            self.ep.close()
        marks = self._cpu_mark + [(time.process_time(), time.monotonic_ns())] * (2 - len(self._cpu_mark))
        counts.cpu_s = marks[1][0] - marks[0][0]
        counts.wall_s = (marks[1][1] - marks[0][1]) / 1e9
        counts.interrupted = self._stop
        return counts

    def _open_loop(self, counts: Counts) -> None:
        plan = self.plan
        assert plan.rate
        interval = 1e9 / plan.rate
        t0 = time.monotonic_ns() + 20_000_000  # 20 ms to settle before the first due time
        self.t_window = w0 = t0 + int(plan.warmup_s * 1e9)
        self.t_window_end = w1 = w0 + int(plan.duration_s * 1e9)
        counts.schedule_start_ns, counts.interval_ns = t0, interval
        counts.window_start_ns, counts.window_end_ns = w0, w1
        total = round((plan.warmup_s + plan.duration_s) * plan.rate)
        # the last answers may take up to the timeout (plus the grace a late generator gets)
        self.deadline = w1 + int(plan.timeout_s * 1e9) + _GRACE_NS
        cycle, ncycle = self.cycle, len(self.cycle)
        k = 0
        due = t0
        lag = counts.lag_us
        next_check = t0 + 50_000_000
        next_progress = t0 + 1_000_000_000
        mono = time.monotonic_ns
        while not self._stop:
            now = mono()
            if len(self._cpu_mark) < 2 and now >= (w0 if not self._cpu_mark else w1):
                self._cpu_mark.append((time.process_time(), now))
            while due <= now and k < total:
                if now >= w1 + _GRACE_NS:  # still behind well past the window: the rest is never sent
                    counts.not_sent += sum(1 for j in range(k, total) if t0 + int(j * interval) >= w0)
                    k = total
                    break
                if due >= w0:
                    q = (now - due) // 1000
                    q = quantize_us(q)
                    lag[q] = lag.get(q, 0) + 1
                    counts.scheduled += 1
                self._dispatch(cycle[k % ncycle], due)
                k += 1
                due = t0 + int(k * interval)
            if k >= total and self.busy == 0 and not self.queue:
                break
            if now >= self.deadline:
                self._expire_all(now)
                break
            if now >= next_check:
                self._check_timeouts(now)
                next_check = now + 50_000_000
                if now >= next_progress:
                    if self.progress is not None:
                        self.progress((now - t0) / 1e9, counts)
                    next_progress += 1_000_000_000
            wake = min(due if k < total else self.deadline, next_check)
            self._wait(wake)
        if self._stop:
            now = mono()
            counts.measured_s = max(0.0, min(now, w1) - w0) / 1e9
            self._expire_all(now, interrupted=True)
        else:
            counts.measured_s = plan.duration_s

    def _closed_loop(self, counts: Counts) -> None:
        plan = self.plan
        assert plan.concurrency
        t0 = time.monotonic_ns()
        self.t_window = w0 = t0 + int(plan.warmup_s * 1e9)
        self.t_window_end = w1 = w0 + int(plan.duration_s * 1e9)
        self.deadline = w1 + int(plan.timeout_s * 1e9)
        self._closed_k = 0
        self._closed_open = True
        for _ in range(plan.concurrency):
            self._closed_next()
        next_check = t0 + 50_000_000
        next_progress = t0 + 1_000_000_000
        mono = time.monotonic_ns
        while not self._stop:
            now = mono()
            if len(self._cpu_mark) < 2 and now >= (w0 if not self._cpu_mark else w1):
                self._cpu_mark.append((time.process_time(), now))
            if now >= w1:
                self._closed_open = False
                if self.busy == 0:
                    break
            if now >= self.deadline:
                self._expire_all(now)
                break
            if now >= next_check:
                self._check_timeouts(now)
                next_check = now + 50_000_000
                if now >= next_progress:
                    if self.progress is not None:
                        self.progress((now - t0) / 1e9, counts)
                    next_progress += 1_000_000_000
            self._wait(min(next_check, w1) if self._closed_open else next_check)
        if self._stop:
            now = mono()
            counts.measured_s = max(0.0, min(now, w1) - w0) / 1e9
            self._expire_all(now, interrupted=True)
        else:
            counts.measured_s = plan.duration_s

    def _closed_next(self) -> None:
        if not self._closed_open:
            return
        spec = self.cycle[self._closed_k % len(self.cycle)]
        self._closed_k += 1
        now = time.monotonic_ns()
        if self.t_window <= now < self.t_window_end:
            self.counts.scheduled += 1
        self._dispatch(spec, now)

    # -- requests and connections ------------------------------------------------------------------

    def _dispatch(self, spec: RequestSpec, due: int, retried: bool = False) -> None:
        if self.idle:
            self._send(self.idle.pop(), spec, due, retried)
        elif len(self.conns) < (self.plan.concurrency or self.plan.connections):
            c = self._connect()
            if isinstance(c, str):  # could not even start connecting (e.g. out of file descriptors)
                self._record_error(spec, due, c)
                return
            c.spec, c.due, c.retried = spec, due, retried
            self.busy += 1
            self.counts.max_in_flight = max(self.counts.max_in_flight, self.busy)
            self._started(due, retried, time.monotonic_ns())  # connecting is starting it: a slow
            # accept (a full listen backlog, SYN retries) is the server's delay, charged to the latency
        else:
            if self.t_window <= due < self.t_window_end:
                self.counts.waited_for_connection += 1
            self.queue.append((spec, due, retried))

    def _connect(self) -> _Conn | str:
        family, addr = self.addr
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError as exc:
            return _errno_kind(exc.errno)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c = _Conn(sock)
        err = sock.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS, errno.EAGAIN):
            sock.close()
            return _errno_kind(err)
        self.conns[c.fd] = c
        self.counts.connections_opened += 1
        self.ep.register(c.fd, _OUT | _IN)
        return c

    def _started(self, due: int, retried: bool, now: int) -> None:
        """A request due in the window has started (written, or its connection begun): count and fit it."""
        if self.t_window <= due < self.t_window_end and not retried:
            counts = self.counts
            counts.sent += 1
            fit, x, y = counts.send_fit, counts.sent, (now - self.t_window) / 1e9
            fit[0] += 1
            fit[1] += x
            fit[2] += y
            fit[3] += x * x
            fit[4] += x * y
            fit[5] += y * y

    def _send(
        self, c: _Conn, spec: RequestSpec, due: int, retried: bool = False, fresh: bool = False
    ) -> None:
        c.spec, c.due, c.retried = spec, due, retried
        c.state = _BUSY
        c.buf, c.body_left, c.got = b"", None, False
        self.busy += 1
        self.counts.max_in_flight = max(self.counts.max_in_flight, self.busy)
        now = time.monotonic_ns()
        c.sent = now
        if not fresh:  # on a fresh connection it was counted when the connection began
            self._started(due, retried, now)
        data = spec.wire
        try:
            n = c.sock.send(data)
        except BlockingIOError:
            n = 0
        except OSError as exc:
            self._finish_error(c, _errno_kind(exc.errno), retry_ok=True)
            return
        if n < len(data):
            c.out = data[n:]
            self.ep.modify(c.fd, _IN | _OUT)

    def _wait(self, wake_ns: int) -> None:
        timer = self.timer
        if timer is not None:
            if timer.armed != wake_ns:
                timer.arm(wake_ns)
            events = self.ep.poll(-1)
        else:
            events = self.ep.poll(max(0.0, (wake_ns - time.monotonic_ns()) / 1e9))
        conns = self.conns
        for fd, ev in events:
            c = conns.get(fd)
            if c is None:
                if timer is not None and fd == timer.fd:
                    timer.armed = -1  # fired: re-arm on the next turn even at the same time
                continue
            if c.state == _CONNECTING:
                self._on_connected(c, ev)
            elif c.out and ev & _OUT:
                self._on_writable(c)
            elif ev & (_IN | _ERR | _HUP):
                self._on_readable(c)

    def _on_connected(self, c: _Conn, ev: int) -> None:
        err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err or (ev & _ERR):
            spec, due = c.spec, c.due
            self._close(c)
            if spec is not None:
                self.busy -= 1
                self._record_error(spec, due, _errno_kind(err or errno.ECONNREFUSED))
                self._next_from_queue()
            return
        c.state = _IDLE
        self.ep.modify(c.fd, _IN)
        spec, due = c.spec, c.due
        if spec is None:
            self._make_idle(c)
            return
        self.busy -= 1  # _send counts it again
        self._send(c, spec, due, c.retried, fresh=True)

    def _on_writable(self, c: _Conn) -> None:
        try:
            n = c.sock.send(c.out)
        except BlockingIOError:
            return
        except OSError as exc:
            self._finish_error(c, _errno_kind(exc.errno))
            return
        c.out = c.out[n:]
        if not c.out:
            self.ep.modify(c.fd, _IN)

    def _on_readable(self, c: _Conn) -> None:
        try:
            data = c.sock.recv(262144)
        except BlockingIOError:
            return
        except OSError as exc:
            if c.state == _BUSY:
                self._finish_error(c, _errno_kind(exc.errno), retry_ok=not c.got)
            else:
                self._close(c)
            return
        if c.state != _BUSY:  # an idle keep-alive connection the server closed (or sent junk on)
            self._close(c)
            return
        if not data:
            if c.body_left == _UNTIL_CLOSE:
                self._finish_ok(c, closing=True)
            else:
                self._finish_error(c, "connection closed early", retry_ok=not c.got)
            return
        c.got = True
        try:
            done = self._feed(c, data)
        except _ProtocolError as exc:
            self._finish_error(c, f"bad response: {exc}")
            return
        if done:
            self._finish_ok(c)

    def _feed(self, c: _Conn, data: bytes) -> bool:
        """Add received bytes; True when the response is complete."""
        if c.body_left is None:
            buf = c.buf + data if c.buf else data
            i = buf.find(b"\r\n\r\n", 0, MAX_HEAD + 4)
            if i < 0:
                if len(buf) > MAX_HEAD:
                    raise _ProtocolError("headers larger than 64 KiB")
                c.buf = buf
                return False
            head = buf[:i]
            if head[:7] != b"HTTP/1." or len(head) < 12 or head[12:13] not in (b" ", b"\r", b""):
                raise _ProtocolError("not an HTTP/1.x status line")
            try:
                status = int(head[9:12])
            except ValueError:
                raise _ProtocolError("unreadable status code") from None
            rest = buf[i + 4 :]
            if 100 <= status < 200:  # an interim answer (100 Continue, 103 Early Hints): the real one follows
                c.buf = b""
                return self._feed(c, rest) if rest else False
            c.status = status
            keep = head[7:8] == b"1"
            # Only three headers matter; find them in the lower-cased head (C speed) rather than walking
            # every header line in Python (a field name is followed by ":" with no space, RFC 9112).
            lower = head.lower()
            length = -3
            j = lower.find(b"\r\ncontent-length:")
            if j >= 0:
                end = lower.find(b"\r\n", j + 17)
                try:
                    length = int(lower[j + 17 : end if end >= 0 else None])
                except ValueError:
                    raise _ProtocolError("unreadable Content-Length") from None
                if length < 0:
                    raise _ProtocolError("negative Content-Length")
            chunked = False
            j = lower.find(b"\r\ntransfer-encoding:")
            if j >= 0:
                end = lower.find(b"\r\n", j + 20)
                chunked = b"chunked" in lower[j + 20 : end if end >= 0 else None]
            j = lower.find(b"\r\nconnection:")
            if j >= 0:
                end = lower.find(b"\r\n", j + 13)
                value = lower[j + 13 : end if end >= 0 else None].strip()
                if value == b"close":
                    keep = False
                elif value == b"keep-alive":
                    keep = True
            c.keep = keep
            assert c.spec is not None
            if c.spec.is_head or status in (204, 304):
                c.body_left = 0
                return True
            if chunked:
                c.body_left = _CHUNKED
                c.buf = b""
                data = rest
            elif length >= 0:
                c.body_left = length - len(rest)
                if c.body_left < 0:
                    raise _ProtocolError("more bytes than Content-Length")
                return c.body_left == 0
            else:
                c.body_left = _UNTIL_CLOSE
                c.keep = False
                return False
            if not data:
                return False
        if c.body_left >= 0:
            c.body_left -= len(data)
            if c.body_left < 0:
                raise _ProtocolError("more bytes than Content-Length")
            return c.body_left == 0
        if c.body_left == _UNTIL_CLOSE:
            return False
        return self._chunks(c, data)

    def _chunks(self, c: _Conn, data: bytes) -> bool:
        """Walk a chunked body; keeps only what is not yet walked (c.buf). True at the last chunk."""
        buf = c.buf + data if c.buf else data
        pos = 0
        while True:
            j = buf.find(b"\r\n", pos)
            if j < 0:
                if len(buf) - pos > 4096:
                    raise _ProtocolError("chunk size line too long")
                c.buf = buf[pos:]
                return False
            size_text = buf[pos:j].split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _ProtocolError("unreadable chunk size") from None
            if size == 0:
                end = buf.find(b"\r\n\r\n", j)  # trailers, then a blank line
                if buf[j : j + 4] == b"\r\n\r\n" or end >= 0:
                    return True
                if len(buf) - j > MAX_HEAD:
                    raise _ProtocolError("trailers larger than 64 KiB")
                c.buf = buf[pos:]
                return False
            if len(buf) < j + 2 + size + 2:
                c.buf = buf[pos:]
                return False
            pos = j + 2 + size + 2

    def _finish_ok(self, c: _Conn, *, closing: bool = False) -> None:
        now = time.monotonic_ns()
        spec, due, status = c.spec, c.due, c.status
        assert spec is not None
        self.busy -= 1
        c.spec = None
        counts = self.counts
        if self.t_window <= due < self.t_window_end:
            us = (now - due) // 1000
            q = quantize_us(us)
            counts.latency_us[q] = counts.latency_us.get(q, 0) + 1
            counts.requests += 1
            per = counts.by_name.get(spec.name)
            if per is None:
                per = counts.by_name[spec.name] = {"n": 0, "errors": 0, "latency_us": {}}
            per["n"] += 1
            per["latency_us"][q] = per["latency_us"].get(q, 0) + 1
            if status >= 400:
                kind = f"status {status}"
                counts.errors[kind] = counts.errors.get(kind, 0) + 1
                per["errors"] += 1
        if closing or not c.keep:
            self._close(c)
        else:
            c.reused = True
            self._make_idle(c)
        self._next_from_queue()
        if self.plan.mode == "closed":
            self._closed_next()

    def _finish_error(self, c: _Conn, kind: str, *, retry_ok: bool = False) -> None:
        spec, due, reused, retried = c.spec, c.due, c.reused, c.retried
        self._close(c)
        if spec is None:
            return
        self.busy -= 1
        if retry_ok and reused and not retried:
            # The server closed a keep-alive connection just as we reused it: any client retries that once.
            self._dispatch(spec, due, retried=True)
            return
        self._record_error(spec, due, kind)
        self._next_from_queue()
        if self.plan.mode == "closed":
            self._closed_next()

    def _record_error(self, spec: RequestSpec, due: int, kind: str) -> None:
        counts = self.counts
        if not (self.t_window <= due < self.t_window_end):
            return
        counts.requests += 1
        counts.errors[kind] = counts.errors.get(kind, 0) + 1
        per = counts.by_name.get(spec.name)
        if per is None:
            per = counts.by_name[spec.name] = {"n": 0, "errors": 0, "latency_us": {}}
        per["n"] += 1
        per["errors"] += 1
        if kind == "timeout":  # given up on: it counts at the time it was given up, a lower bound
            q = quantize_us((time.monotonic_ns() - due) // 1000)
            counts.latency_us[q] = counts.latency_us.get(q, 0) + 1
            per["latency_us"][q] = per["latency_us"].get(q, 0) + 1

    def _make_idle(self, c: _Conn) -> None:
        c.state = _IDLE
        self.idle.append(c)

    def _next_from_queue(self) -> None:
        while self.queue and (
            self.idle or len(self.conns) < (self.plan.concurrency or self.plan.connections)
        ):
            spec, due, retried = self.queue.popleft()
            self._dispatch(spec, due, retried)

    def _close(self, c: _Conn) -> None:
        if self.conns.pop(c.fd, None) is not None:
            try:
                self.ep.unregister(c.fd)
            except (OSError, ValueError, KeyError):
                pass
        if c.state == _IDLE:
            try:
                self.idle.remove(c)
            except ValueError:
                pass
        c.state = _CONNECTING
        c.sock.close()

    def _check_timeouts(self, now: int) -> None:
        limit = int(self.plan.timeout_s * 1e9)
        for c in list(self.conns.values()):
            if (
                c.spec is not None
                and now - c.sent > limit
                and c.sent
                or c.spec is not None
                and c.state == _CONNECTING
                and now - c.due > limit
            ):
                self._finish_error(c, "timeout")

    def _expire_all(self, now: int, *, interrupted: bool = False) -> None:
        """The run is over: what is still in flight or queued is a timeout (or, on Ctrl-C, not counted)."""
        for c in list(self.conns.values()):
            if c.spec is not None:
                spec, due = c.spec, c.due
                self._close(c)
                self.busy -= 1
                if interrupted:
                    self.counts.unfinished += self.t_window <= due < self.t_window_end
                else:
                    self._record_error(spec, due, "timeout")
        while self.queue:
            spec, due, _ = self.queue.popleft()
            if interrupted:
                self.counts.unfinished += self.t_window <= due < self.t_window_end
            else:
                self._record_error(spec, due, "timeout")


def _errno_kind(err: int | None) -> str:
    if err in (errno.ECONNREFUSED,):
        return "connection refused"
    if err in (errno.ECONNRESET, errno.EPIPE):
        return "connection reset"
    if err in (errno.ETIMEDOUT,):
        return "connect timeout"
    if err in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "host unreachable"
    if err in (errno.EMFILE, errno.ENFILE):
        return "too many open files"
    if err in (errno.EADDRNOTAVAIL,):
        return "no local port free"
    return f"socket error {errno.errorcode.get(err or 0, err)}"


def _resolve(host: str, port: int) -> tuple[int, Any]:
    """Resolve once, before the run (never on the hot path)."""
    from perfpack.errors import PerfpackError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise PerfpackError(f"cannot resolve {host}: {getattr(exc, 'strerror', None) or exc}") from None
    family, _, _, _, addr = infos[0]
    return family, addr


def preflight(plan: Plan, timeout_s: float = 5.0) -> None:
    """Connect once before the run: an unreachable URL is one clear error, not 30 s of refused connections."""
    from perfpack.errors import PerfpackError

    family, addr = _resolve(plan.target.host, plan.target.port)
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(min(timeout_s, plan.timeout_s))
    try:
        sock.connect(addr)
    except TimeoutError:
        raise PerfpackError(
            f"cannot connect to {plan.target.origin}: no answer in {min(timeout_s, plan.timeout_s):g} s",
            hint="is the server running and listening there?",
        ) from None
    except OSError as exc:
        raise PerfpackError(
            f"cannot connect to {plan.target.origin}: {exc.strerror or exc}",
            hint="is the server running and listening there?",
        ) from None
    finally:
        sock.close()


class _PollShim:
    """select.poll with epoll's method names (for systems without epoll)."""

    def __init__(self) -> None:
        self._p = select.poll()

    def register(self, fd: int, mask: int) -> None:
        self._p.register(fd, mask)

    def modify(self, fd: int, mask: int) -> None:
        self._p.modify(fd, mask)

    def unregister(self, fd: int) -> None:
        self._p.unregister(fd)

    def poll(self, timeout: float) -> list[tuple[int, int]]:
        return self._p.poll(None if timeout < 0 else timeout * 1000)

    def close(self) -> None:
        pass
