"""A local stand-in of the Anthropic Messages API that records what the real Claude Code CLI sends.

Standard library only; binds 127.0.0.1 on a free port, serves in a daemon thread, and shuts down cleanly.
By default every model turn answers one text block. With `script=`, a Python function of the request body
chooses each turn's answer: text and/or tool_use blocks, streamed like the real API, so a test can make the
real CLI spawn a subagent or run a Bash command.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit

MAX_BODY_BYTES = 32 * 1024 * 1024  # the CLI's first request is ~100 KB; anything bigger is a bug
MAX_RECORDED = 400  # bound memory if a run loops

Block = dict[str, Any]
Script = Callable[[dict[str, Any]], list[Block] | None]  # request body -> the turn's blocks (None: default)


def text_block(value: str) -> Block:
    return {"type": "text", "text": value}


def tool_use_block(name: str, tool_input: dict[str, Any]) -> Block:
    return {"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:20]}", "name": name, "input": tool_input}


class FakeAnthropicAPI:
    """Start with `with FakeAnthropicAPI() as api:`; `api.base_url`, `api.requests` (parsed bodies)."""

    def __init__(self, reply_text: str = "OK from the stand-in API.", script: Script | None = None) -> None:
        self.reply_text = reply_text
        self.script = script
        self.requests: list[dict[str, Any]] = []  # {"method", "path", "query", "headers", "body"}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="fake-anthropic-api",
            daemon=True,
        )

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def messages(self) -> list[dict[str, Any]]:
        """Bodies of the POST /v1/messages calls, in order (model turns, not token counts)."""
        with self._lock:
            return [
                r["body"]
                for r in self.requests
                if r["method"] == "POST" and r["path"] == "/v1/messages" and isinstance(r["body"], dict)
            ]

    def _record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            if len(self.requests) < MAX_RECORDED:
                self.requests.append(entry)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # keep pytest output quiet
                pass

            def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("request-id", f"req_{uuid.uuid4().hex[:16]}")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_HEAD(self) -> None:
                api._record(
                    {
                        "method": "HEAD",
                        "path": urlsplit(self.path).path,
                        "query": "",
                        "headers": dict(self.headers),
                        "body": None,
                    }
                )
                self._send(200, b"")

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                api._record(
                    {
                        "method": "GET",
                        "path": parts.path,
                        "query": parts.query,
                        "headers": dict(self.headers),
                        "body": None,
                    }
                )
                self._send(200, b'{"data": [], "has_more": false}')

            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY_BYTES:
                    self._send(
                        413, b'{"type":"error","error":{"type":"request_too_large","message":"too large"}}'
                    )
                    return
                raw = self.rfile.read(length) if length else b""
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                api._record(
                    {
                        "method": "POST",
                        "path": parts.path,
                        "query": parts.query,
                        "headers": dict(self.headers),
                        "body": body,
                    }
                )
                if parts.path == "/v1/messages/count_tokens":
                    self._send(200, b'{"input_tokens": 10}')
                elif parts.path == "/v1/messages":
                    stream = isinstance(body, dict) and bool(body.get("stream"))
                    model = body.get("model", "claude-sonnet-4-5") if isinstance(body, dict) else "claude"
                    blocks = api._blocks(body)
                    if stream:
                        self._stream(model, blocks)
                    else:
                        self._send(200, json.dumps(api._message(model, blocks)).encode())
                else:
                    self._send(200, b"{}")

            def _stream(self, model: str, blocks: list[Block]) -> None:
                message = api._message(model, blocks)
                start = dict(message, content=[], stop_reason=None)
                start["usage"] = {"input_tokens": 10, "output_tokens": 1}
                events: list[tuple[str, dict[str, Any]]] = [
                    ("message_start", {"type": "message_start", "message": start})
                ]
                for index, block in enumerate(blocks):
                    if block["type"] == "tool_use":
                        opened = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
                        delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
                    else:
                        opened = {"type": "text", "text": ""}
                        delta = {"type": "text_delta", "text": block["text"]}
                    events += [
                        (
                            "content_block_start",
                            {"type": "content_block_start", "index": index, "content_block": opened},
                        ),
                        (
                            "content_block_delta",
                            {"type": "content_block_delta", "index": index, "delta": delta},
                        ),
                        ("content_block_stop", {"type": "content_block_stop", "index": index}),
                    ]
                events += [
                    (
                        "message_delta",
                        {
                            "type": "message_delta",
                            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                            "usage": {"output_tokens": 8},
                        },
                    ),
                    ("message_stop", {"type": "message_stop"}),
                ]
                payload = "".join(
                    f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("request-id", f"req_{uuid.uuid4().hex[:16]}")
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()

        return Handler

    def _blocks(self, body: Any) -> list[Block]:
        """This turn's answer: the script's blocks, or one text block. A failing script answers its error."""
        if self.script is not None and isinstance(body, dict):
            try:
                blocks = self.script(body)
            except Exception as exc:  # a bug in a test's script must not hang the CLI: answer, and say so
                blocks = [text_block(f"stand-in script error: {exc!r}")]
            if blocks:
                return blocks
        return [text_block(self.reply_text)]

    def _message(self, model: str, blocks: list[Block] | None = None) -> dict[str, Any]:
        content = blocks if blocks is not None else [text_block(self.reply_text)]
        stop = "tool_use" if any(b.get("type") == "tool_use" for b in content) else "end_turn"
        return {
            "id": f"msg_{uuid.uuid4().hex[:24]}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 8},
        }
