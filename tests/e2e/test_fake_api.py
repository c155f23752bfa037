"""The stand-in Messages API alone (no Node needed): the answers the CLI relies on, and what it records."""

from __future__ import annotations

import json
import urllib.request

import pytest
from fake_api import FakeAnthropicAPI, text_block, tool_use_block

pytestmark = pytest.mark.e2e


def _post(url: str, body: bytes) -> tuple[int, str, bytes]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.headers["Content-Type"], response.read()


def test_streams_the_messages_api_events_and_records_the_body():
    with FakeAnthropicAPI(reply_text="pong") as api:
        status, ctype, raw = _post(
            f"{api.base_url}/v1/messages?beta=true",
            json.dumps({"model": "m", "stream": True, "messages": []}).encode(),
        )
        names = [line.split(": ", 1)[1] for line in raw.decode().splitlines() if line.startswith("event: ")]
        data = [json.loads(line[6:]) for line in raw.decode().splitlines() if line.startswith("data: ")]
        assert (status, ctype) == (200, "text/event-stream")
        assert names == [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
        assert data[2]["delta"] == {"type": "text_delta", "text": "pong"}
        assert data[4]["delta"]["stop_reason"] == "end_turn"
        assert api.messages() == [{"model": "m", "stream": True, "messages": []}]
        assert api.requests[0]["query"] == "beta=true"


def test_non_streaming_head_count_tokens_and_junk_get_harmless_answers():
    with FakeAnthropicAPI(reply_text="plain") as api:
        status, _, raw = _post(f"{api.base_url}/v1/messages", b'{"model": "m", "stream": false}')
        assert status == 200 and json.loads(raw)["content"] == [{"type": "text", "text": "plain"}]
        assert json.loads(_post(f"{api.base_url}/v1/messages/count_tokens", b"{}")[2]) == {"input_tokens": 10}
        assert _post(f"{api.base_url}/v1/messages", b"\xff not json")[0] == 200
        with urllib.request.urlopen(
            urllib.request.Request(api.base_url + "/", method="HEAD"), timeout=10
        ) as r:
            assert r.status == 200
        assert len(api.messages()) == 1  # the count_tokens call and the junk body are not model turns
    with pytest.raises(OSError):  # shut down: the port no longer answers
        urllib.request.urlopen(api.base_url + "/", timeout=2)


def test_a_script_answers_tool_use_blocks_and_its_errors_do_not_hang():
    call = tool_use_block("Bash", {"command": "echo hi"})

    def script(body):
        if body.get("boom"):
            raise RuntimeError("bad script")
        return [text_block("running"), call] if body.get("stream") else None

    with FakeAnthropicAPI(reply_text="plain", script=script) as api:
        raw = _post(f"{api.base_url}/v1/messages", json.dumps({"model": "m", "stream": True}).encode())[2]
        data = [json.loads(line[6:]) for line in raw.decode().splitlines() if line.startswith("data: ")]
        started = [d["content_block"] for d in data if d["type"] == "content_block_start"]
        assert started == [
            {"type": "text", "text": ""},
            {"type": "tool_use", "id": call["id"], "name": "Bash", "input": {}},
        ]
        deltas = [d["delta"] for d in data if d["type"] == "content_block_delta"]
        assert json.loads(deltas[1]["partial_json"]) == {"command": "echo hi"}
        assert data[-2]["delta"]["stop_reason"] == "tool_use"
        plain = json.loads(_post(f"{api.base_url}/v1/messages", b'{"model": "m", "stream": false}')[2])
        assert plain["content"] == [{"type": "text", "text": "plain"}] and plain["stop_reason"] == "end_turn"
        failed = json.loads(_post(f"{api.base_url}/v1/messages", b'{"model": "m", "boom": true}')[2])
        assert "bad script" in failed["content"][0]["text"]
