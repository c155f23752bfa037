"""A second, different HTTP server for perfpack load's tests: the standard library's ThreadingHTTPServer.

HTTP/1.0 by default (a connection per request, as many simple services answer) or HTTP/1.1 keep-alive with
--keep-alive; a lock held for --stall seconds every --stall-every seconds stalls every request; every
1/--error-rate-th request answers 503. Prints its port, then serves on 127.0.0.1 until --max-seconds.
"""

from __future__ import annotations

import argparse
import http.server
import sys
import threading
import time

lock = threading.Lock()
served = [0]
count_lock = threading.Lock()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stall-every", type=float, default=0.0)
    ap.add_argument("--stall", type=float, default=0.0)
    ap.add_argument("--error-rate", type=float, default=0.0)
    ap.add_argument("--keep-alive", action="store_true")
    ap.add_argument("--max-seconds", type=float, default=300.0)
    args = ap.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if args.keep_alive else "HTTP/1.0"

        def do_GET(self) -> None:  # the standard library calls it by this name
            with lock:  # held by the staller during a stall
                pass
            with count_lock:
                served[0] += 1
                n = served[0]
            rate = args.error_rate
            failed = rate and int(n * rate) != int((n - 1) * rate)
            body = b"error\n" if failed else b"hello\n"
            self.send_response(503 if failed else 200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    class Server(http.server.ThreadingHTTPServer):
        request_queue_size = 1024  # the default 5 overflows during a stall (SYN retries: seconds)

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a client that gave up (timeout) is not the server's news

    def staller() -> None:
        while True:
            time.sleep(args.stall_every - args.stall)
            with lock:
                time.sleep(args.stall)

    srv = Server(("127.0.0.1", 0), Handler)
    if args.stall_every > 0 and args.stall > 0:
        threading.Thread(target=staller, daemon=True).start()
    threading.Timer(args.max_seconds, srv.shutdown).start()
    sys.stdout.write(f"{srv.server_address[1]}\n")
    sys.stdout.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
