"""The e2e stand-in API, scripted: each model turn is answered by a Python function of the request body.

The oracle uses it to make the real CLI spawn every agent and run every command of a batch: a turn may answer
with text or with tool_use blocks (streamed like the real Messages API). Requests whose model id the real API
would not serve get the real API's 404, so "model id requested" and "model refused" are both recorded.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from fake_api import MAX_BODY_BYTES, FakeAnthropicAPI

Block = dict[str, Any]
Script = Callable[[dict[str, Any]], list[Block]]
# What the real API serves: full claude-* ids (the CLI resolves aliases like `haiku` before it sends).
SERVED_MODEL = re.compile(r"^claude-[a-z0-9][a-z0-9.-]*$")


def text(value: str) -> Block:
    return {"type": "text", "text": value}


def tool_use(name: str, tool_input: dict[str, Any]) -> Block:
    return {"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:20]}", "name": name, "input": tool_input}


class ScriptedAPI(FakeAnthropicAPI):
    """`ScriptedAPI(script)`: `script(body)` returns the content blocks of that turn's answer."""

    def __init__(self, script: Script, max_recorded: int = 5000) -> None:
        self.max_recorded = max_recorded
        super().__init__(script=script)  # the base class keeps `script` (set after it, it was reset to None)
        self.script = script

    def _record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            if len(self.requests) < self.max_recorded:
                self.requests.append(entry)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        base = super()._handler_class()
        api = self

        class Handler(base):  # type: ignore[misc, valid-type]
            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY_BYTES:
                    too_large = b'{"type":"error","error":{"type":"request_too_large","message":"too large"}}'
                    self._send(413, too_large)
                    return
                raw = self.rfile.read(length) if length else b""
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                api._record({"method": "POST", "path": parts.path, "query": parts.query,
                             "headers": {}, "body": body})
                if parts.path == "/v1/messages/count_tokens":
                    self._send(200, b'{"input_tokens": 10}')
                    return
                if parts.path != "/v1/messages" or not isinstance(body, dict):
                    self._send(200, b"{}")
                    return
                model = str(body.get("model", ""))
                if not SERVED_MODEL.match(model):
                    error = {"type": "error",
                             "error": {"type": "not_found_error", "message": f"model: {model}"}}
                    self._send(404, json.dumps(error).encode())
                    return
                try:
                    blocks = api.script(body) or [text("OK.")]
                except Exception as exc:  # a bug in a script must not hang the CLI: answer, and say so
                    blocks = [text(f"oracle script error: {exc!r}")]
                self._stream_blocks(model, blocks)

            def _stream_blocks(self, model: str, blocks: list[Block]) -> None:
                stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
                start: dict[str, Any] = {"id": f"msg_{uuid.uuid4().hex[:24]}", "type": "message",
                                         "role": "assistant",
                         "model": model, "content": [], "stop_reason": None, "stop_sequence": None,
                         "usage": {"input_tokens": 10, "output_tokens": 1}}
                events: list[tuple[str, dict[str, Any]]] = [("message_start", {"type": "message_start",
                                                                              "message": start})]
                for index, block in enumerate(blocks):
                    if block["type"] == "text":
                        opened: dict[str, Any] = {"type": "text", "text": ""}
                        delta: dict[str, Any] = {"type": "text_delta", "text": block["text"]}
                    else:
                        opened = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
                        delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
                    events += [("content_block_start", {"type": "content_block_start", "index": index,
                                                        "content_block": opened}),
                               ("content_block_delta", {"type": "content_block_delta", "index": index,
                                                        "delta": delta})]
                    events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
                events += [("message_delta", {"type": "message_delta",
                                              "delta": {"stop_reason": stop, "stop_sequence": None},
                                              "usage": {"output_tokens": 8}}),
                           ("message_stop", {"type": "message_stop"})]
                payload = "".join(f"event: {n}\ndata: {json.dumps(d)}\n\n" for n, d in events).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("request-id", f"req_{uuid.uuid4().hex[:16]}")
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()

        return Handler
