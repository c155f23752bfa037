"""What a load run will do (target, rate or concurrency, durations, thresholds), from flags or a file.

Everything here is checked before any request is sent: a bad URL, duration, header, threshold or scenario
file is one PerfpackError (exit 2), never a half-run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from perfpack.errors import PerfpackError
from perfpack.redact import redact_text

MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_SCENARIO_BYTES = 1024 * 1024
MAX_REQUESTS = 100  # request kinds in one scenario
MAX_WEIGHT = 10_000
MAX_RATE = 1_000_000.0
MAX_DURATION_S = 24 * 3600.0
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 token: method and header names
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s|m|h)?\s*$")
_UNITS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str, *, what: str, default_unit: str = "s", allow_zero: bool = False) -> float:
    """'30s', '500ms', '2m', '1.5' (default unit) -> seconds."""
    m = _DURATION.match(str(text))
    if not m:
        raise PerfpackError(f"{what}: cannot read duration {str(text)[:60]!r}", hint="e.g. 30s, 500ms, 2m")
    seconds = float(m.group(1)) * _UNITS[m.group(2) or default_unit]
    if seconds > MAX_DURATION_S or (seconds <= 0 and not allow_zero):
        raise PerfpackError(f"{what}: {text!r} is out of range (more than 0, at most 24h)")
    return seconds


@dataclass(frozen=True)
class Target:
    """Where requests go: one host and port (plain HTTP/1.1)."""

    scheme: str
    host: str
    port: int

    @property
    def origin(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" + ("" if self.port == default else f":{self.port}")


@dataclass(frozen=True)
class RequestSpec:
    """One kind of request; `wire` is the exact bytes sent (built once, reused for every request)."""

    name: str
    method: str
    path: str
    weight: int
    wire: bytes

    @property
    def is_head(self) -> bool:
        return self.method == "HEAD"


@dataclass
class Plan:
    target: Target
    requests: list[RequestSpec]
    rate: float | None = None  # open loop: requests per second
    concurrency: int | None = None  # closed loop: connections sending back to back
    duration_s: float = 30.0
    warmup_s: float = 5.0
    timeout_s: float = 10.0
    connections: int = 1000  # most connections the open-loop generator opens
    thresholds: list[Any] = field(default_factory=list)  # result.Threshold, parsed here

    @property
    def mode(self) -> str:
        return "closed" if self.concurrency else "open"

    def describe(self) -> str:
        """What is loaded, as shown: the URL's secrets (?token=...) redacted, as the ledger keeps it."""
        if len(self.requests) == 1:
            r = self.requests[0]
            what = redact_text(f"{r.method} {self.target.origin}{r.path}")
        else:
            what = f"{len(self.requests)} weighted requests on {self.target.origin}"
        return what


def parse_url(url: str) -> tuple[Target, str]:
    """(target, path with query) of an http:// URL, or one clear error."""
    if (
        not isinstance(url, str)
        or not url
        or len(url) > 8192
        or any(ord(c) < 33 or ord(c) == 127 for c in url)
    ):
        raise PerfpackError(
            f"invalid URL {url[:80]!r}" if isinstance(url, str) else "invalid URL",
            hint="e.g. http://127.0.0.1:8000/orders (no spaces or control characters)",
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise PerfpackError(f"invalid URL {url[:80]!r}: {exc}") from None
    if parts.scheme == "https":
        raise PerfpackError(
            f"{url[:80]}: https is not supported by perfpack load's own engine",
            hint="load the service over plain http (e.g. its port behind the TLS terminator)",
        )
    if parts.scheme != "http" or not parts.hostname:
        raise PerfpackError(f"invalid URL {url[:80]!r}: need http://HOST[:PORT]/PATH")
    if parts.username or parts.password:
        raise PerfpackError(
            f"{redact_text(url)[:80]}: credentials in the URL are not sent",
            hint="pass them as a header: --header 'Authorization: Basic ...'",
        )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target("http", parts.hostname, port or 80), path


def parse_header(text: str) -> tuple[str, str]:
    name, sep, value = str(text).partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not _TOKEN.match(name):
        raise PerfpackError(f"invalid header {str(text)[:80]!r}", hint="use 'Name: value'")
    if any(c in value for c in "\r\n\0"):
        raise PerfpackError(f"header {name}: the value has a line break or NUL")
    if name.lower() in ("host", "content-length", "transfer-encoding", "connection"):
        raise PerfpackError(
            f"header {name} is set by perfpack load itself",
            hint="Host, Content-Length, Transfer-Encoding and Connection cannot be overridden",
        )
    return name, value


def build_wire(target: Target, method: str, path: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    if not _TOKEN.match(method):
        raise PerfpackError(f"invalid HTTP method {method[:40]!r}")
    if any(ord(c) < 33 or ord(c) == 127 for c in path) or not (path.startswith("/") or path == "*"):
        raise PerfpackError(
            f"invalid request path {path[:80]!r}", hint="start it with / and leave out spaces"
        )
    host = f"[{target.host}]" if ":" in target.host else target.host
    if target.port != 80:
        host += f":{target.port}"
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    names = {n.lower() for n, _ in headers}
    if "user-agent" not in names:
        lines.append("User-Agent: perfpack-load")
    if "accept" not in names:
        lines.append("Accept: */*")
    lines += [f"{n}: {v}" for n, v in headers]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    try:
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    except UnicodeEncodeError:
        raise PerfpackError(
            "a header or the path has characters outside Latin-1",
            hint="percent-encode the path; header values must be Latin-1",
        ) from None
    return head + body


def read_body(arg: str, *, base: Path | None = None) -> bytes:
    """--body @FILE reads a file; any other value is the body itself."""
    if not arg.startswith("@"):
        return arg.encode("utf-8")
    path = Path(arg[1:])
    if base is not None and not path.is_absolute():
        path = base / path
    return _read_file(path, what="request body", limit=MAX_BODY_BYTES)


def _read_file(path: Path, *, what: str, limit: int) -> bytes:
    from perfpack.safeio import read_user_bytes

    try:
        return read_user_bytes(path, what=what, max_bytes=limit)
    except FileNotFoundError:
        raise PerfpackError(f"{what} {path}: no such file") from None


def single_request_plan(
    url: str, *, method: str = "GET", headers: tuple[str, ...] = (), body: str | None = None
) -> tuple[Target, list[RequestSpec]]:
    target, path = parse_url(url)
    method = method.upper()
    hdrs = [parse_header(h) for h in headers]
    data = read_body(body) if body is not None else b""
    return target, [
        RequestSpec(f"{method} {path}"[:80], method, path, 1, build_wire(target, method, path, hdrs, data))
    ]


# --- scenario files -------------------------------------------------------------------------------

_TOP_KEYS = {
    "url",
    "rate",
    "concurrency",
    "duration",
    "warmup",
    "timeout",
    "connections",
    "thresholds",
    "headers",
    "request",
}
_REQ_KEYS = {"name", "method", "path", "url", "weight", "headers", "body", "body_file"}


def load_scenario(path: Path) -> dict[str, Any]:
    """Read and check a scenario file; returns its settings and `requests` (a list of RequestSpec)."""
    import tomllib

    raw = _read_file(Path(path), what="scenario file", limit=MAX_SCENARIO_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PerfpackError(f"scenario file {path}: not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PerfpackError(
            f"scenario file {path}: invalid TOML: {exc}", hint="see docs/load.md, 'Scenario files'"
        ) from None
    return check_scenario(data, where=str(path), base=Path(path).parent)


def _want(cond: bool, where: str, message: str) -> None:
    if not cond:
        raise PerfpackError(f"scenario file {where}: {message}", hint="see docs/load.md, 'Scenario files'")


def check_scenario(data: dict[str, Any], *, where: str, base: Path) -> dict[str, Any]:
    unknown = sorted(set(data) - _TOP_KEYS)
    _want(not unknown, where, f"unknown key {unknown[0]!r}" if unknown else "")
    _want(isinstance(data.get("url"), str), where, 'needs url = "http://HOST:PORT" (the base of every path)')
    target, base_path = parse_url(data["url"])
    out: dict[str, Any] = {"target": target}
    for key in ("rate", "concurrency", "connections"):
        if key in data:
            value = data[key]
            _want(
                isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0,
                where,
                f"{key} must be a positive number",
            )
            out[key] = value
    for key in ("duration", "warmup", "timeout"):
        if key in data:
            _want(
                isinstance(data[key], (str, int, float)) and not isinstance(data[key], bool),
                where,
                f'{key} must be a duration like "30s"',
            )
            out[key] = parse_duration(
                str(data[key]), what=f"scenario file {where}: {key}", allow_zero=key == "warmup"
            )
    thresholds = data.get("thresholds", [])
    _want(
        isinstance(thresholds, list) and all(isinstance(t, str) for t in thresholds),
        where,
        'thresholds must be a list of strings like "p95<200ms"',
    )
    out["thresholds"] = list(thresholds)
    common = _headers_table(data.get("headers", {}), where, "headers")
    reqs: Any = data.get("request")
    _want(isinstance(reqs, list) and len(reqs) > 0, where, "needs at least one [[request]] table")
    _want(len(reqs) <= MAX_REQUESTS, where, f"at most {MAX_REQUESTS} [[request]] tables")
    specs, names = [], set()
    for i, req in enumerate(reqs, 1):
        at = f"[[request]] #{i}"
        _want(isinstance(req, dict), where, f"{at} must be a table")
        bad = sorted(set(req) - _REQ_KEYS)
        _want(not bad, where, f"{at}: unknown key {bad[0]!r}" if bad else "")
        method = req.get("method", "GET")
        _want(
            isinstance(method, str) and bool(_TOKEN.match(method)), where, f"{at}: invalid method {method!r}"
        )
        method = method.upper()
        _want(("path" in req) != ("url" in req), where, f"{at}: needs exactly one of path or url")
        if "url" in req:
            _want(isinstance(req["url"], str), where, f"{at}: url must be a string")
            t2, path = parse_url(req["url"])
            _want(t2 == target, where, f"{at}: url must be on {target.origin} (one host per scenario)")
        else:
            _want(
                isinstance(req["path"], str) and req["path"].startswith("/"),
                where,
                f"{at}: path must be a string starting with /",
            )
            path = base_path.rstrip("/") + req["path"] if base_path != "/" else req["path"]
        weight = req.get("weight", 1)
        _want(
            isinstance(weight, int) and not isinstance(weight, bool) and 1 <= weight <= MAX_WEIGHT,
            where,
            f"{at}: weight must be a whole number from 1 to {MAX_WEIGHT}",
        )
        _want(not ("body" in req and "body_file" in req), where, f"{at}: body and body_file are exclusive")
        if "body" in req:
            _want(isinstance(req["body"], str), where, f"{at}: body must be a string")
            body = req["body"].encode("utf-8")
            _want(len(body) <= MAX_BODY_BYTES, where, f"{at}: body too large")
        elif "body_file" in req:
            _want(isinstance(req["body_file"], str), where, f"{at}: body_file must be a path")
            body = read_body("@" + req["body_file"], base=base)
        else:
            body = b""
        name = req.get("name", f"{method} {path}")
        _want(isinstance(name, str) and 0 < len(name) <= 80, where, f"{at}: name must be 1 to 80 characters")
        _want(name not in names, where, f"{at}: the name {name!r} is used twice")
        names.add(name)
        hdrs = {**common, **_headers_table(req.get("headers", {}), where, f"{at} headers")}
        try:
            wire = build_wire(target, method, path, list(hdrs.items()), body)
        except PerfpackError as exc:
            raise PerfpackError(f"scenario file {where}: {at}: {exc.message}") from None
        specs.append(RequestSpec(name, method, path, weight, wire))
    out["requests"] = specs
    return out


def _headers_table(table: Any, where: str, at: str) -> dict[str, str]:
    _want(isinstance(table, dict), where, f'{at} must be a table of name = "value"')
    out = {}
    for name, value in table.items():
        _want(isinstance(value, str), where, f"{at}: {name} must be a string")
        try:
            n, v = parse_header(f"{name}: {value}")
        except PerfpackError as exc:
            raise PerfpackError(f"scenario file {where}: {at}: {exc.message}") from None
        out[n] = v
    return out
