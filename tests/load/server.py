"""A real HTTP/1.1 server on 127.0.0.1 for perfpack load's tests and benchmark, run as its own process.

    python server.py [--stall-every 1.0 --stall 0.2] [--error-rate 0.02] [--stall-log FILE]

Prints its port on the first line of stdout once it listens. A stall blocks the whole server (like a GC
pause or a lock held across a request) for `--stall` seconds every `--stall-every` seconds; the real
start and end of each stall (CLOCK_MONOTONIC nanoseconds, the clock the generator uses too) go to
`--stall-log` as JSON lines, which is the ground truth the benchmark checks the generator against.
`--error-rate` answers exactly that fraction of `/` requests with 500 (deterministic, evenly spread).

Paths: `/` (tiny 200), `/chunked`, `/close` (Connection: close), `/nolength` (body until close),
`/status/NNN`, `/sleep/MS` (answers after MS without blocking others), `/big` (1 MiB), `/hang` (never
answers), `/reset` (closes without answering), `/garbage` (not HTTP), `/hugeheaders` (100 KiB of
headers), `/head-only` (sends half a status line, then stalls), `/badlength`, `/textlength`, `/badchunk`,
`/extra` (more bytes than Content-Length), `/escape` (terminal escapes in the reason phrase).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time

BODY = b"ok\n"
OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\n" + BODY
ERR = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 6\r\n\r\nerror\n"


class Server(asyncio.Protocol):
    error_rate = 0.0
    served = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.t = transport  # type: ignore[assignment]
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data if self.buf else data
        while True:
            i = buf.find(b"\r\n\r\n")
            if i < 0:
                self.buf = buf
                return
            head = buf[:i]
            need = 0
            lower = head.lower()
            j = lower.find(b"\r\ncontent-length:")
            if j >= 0:
                need = int(lower[j + 17 :].split(b"\r\n", 1)[0])
            if len(buf) < i + 4 + need:
                self.buf = buf
                return
            buf = buf[i + 4 + need :]
            self.respond(head)
            if self.t.is_closing():
                return

    def respond(self, head: bytes) -> None:
        line = head.split(b"\r\n", 1)[0]
        parts = line.split(b" ")
        path = parts[1] if len(parts) > 1 else b"/"
        method = parts[0]
        cls = Server
        if path == b"/":
            cls.served += 1
            n = cls.served
            rate = cls.error_rate
            if rate and int(n * rate) != int((n - 1) * rate):
                self.t.write(ERR)
            else:
                self.t.write(OK if method != b"HEAD" else OK[:-3])
        elif path == b"/chunked":
            self.t.write(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n"
            )
        elif path == b"/close":
            self.t.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
            self.t.close()
        elif path == b"/nolength":
            self.t.write(b"HTTP/1.1 200 OK\r\n\r\nuntil the server closes\n")
            self.t.close()
        elif path.startswith(b"/status/"):
            code = int(path[8:11])
            self.t.write(b"HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n" % code)
        elif path.startswith(b"/sleep/"):
            ms = float(path[7:])
            asyncio.get_running_loop().call_later(ms / 1000, self._late, OK)
        elif path == b"/big":
            size = 1 << 20
            self.t.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + b"x" * size)
        elif path == b"/hang":
            pass
        elif path == b"/reset":
            self.t.abort()
        elif path == b"/garbage":
            self.t.write(b"\x00\x01 this is not http\r\n\r\n")
        elif path == b"/hugeheaders":
            self.t.write(
                b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 100_000 + b"\r\nContent-Length: 0\r\n\r\n"
            )
        elif path == b"/head-only":
            self.t.write(b"HTTP/1.1 2")
        elif path == b"/badlength":
            self.t.write(b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n")
        elif path == b"/textlength":
            self.t.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n")
        elif path == b"/badchunk":
            self.t.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
        elif path == b"/extra":
            self.t.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok and more")
        elif path == b"/escape":
            self.t.write(b"HTTP/1.1 200 \x1b[31mred\x1b[0m\r\nContent-Length: 0\r\n\r\n")
        else:
            self.t.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")

    def _late(self, data: bytes) -> None:
        if not self.t.is_closing():
            self.t.write(data)


def _stall(loop: asyncio.AbstractEventLoop, at_ns: int, every_s: float, stall_s: float, log) -> None:
    start = time.monotonic_ns()
    time.sleep(stall_s)  # blocks everything: no reads, no writes, no accepts (the kernel still queues them)
    end = time.monotonic_ns()
    if log is not None:
        log.write(json.dumps({"start_ns": start, "end_ns": end, "planned_ns": at_ns}) + "\n")
        log.flush()
    nxt = at_ns + int(every_s * 1e9)
    loop.call_at(loop.time() + (nxt - time.monotonic_ns()) / 1e9, _stall, loop, nxt, every_s, stall_s, log)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--stall-every", type=float, default=0.0)
    ap.add_argument("--stall", type=float, default=0.0)
    ap.add_argument("--stall-log", default=None)
    ap.add_argument("--error-rate", type=float, default=0.0)
    ap.add_argument("--max-seconds", type=float, default=600.0, help="exit after this long, whatever happens")
    args = ap.parse_args()
    Server.error_rate = args.error_rate
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Server, "127.0.0.1", args.port, backlog=4096, reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    log = open(args.stall_log, "a") if args.stall_log else None  # noqa: SIM115 - before serving
    if args.stall_every > 0 and args.stall > 0:
        first = time.monotonic_ns() + int(args.stall_every * 1e9)
        loop.call_at(loop.time() + args.stall_every, _stall, loop, first, args.stall_every, args.stall, log)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.call_later(args.max_seconds, stop.set)
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    await stop.wait()
    server.close()
    if log is not None:
        log.close()
    os._exit(0)


if __name__ == "__main__":
    asyncio.run(main())
