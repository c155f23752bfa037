"""The final message of an agent: from a Claude Code transcript (JSON Lines, as hooks receive it in
`transcript_path`) or from a plain-text file. Transcripts grow to many megabytes: read from the end.
`assistant_text` is on the stop hook's path: nothing is imported at the top of this module."""

TAIL_BYTES = 4 * 1024 * 1024  # the last assistant message is near the end; enough for very long ones
MAX_MESSAGE_BYTES = 4 * 1024 * 1024


def final_message_from_transcript(path: str) -> str:
    """The text of the last assistant message in a transcript, or "" when it has none."""
    import os

    from perfpack.errors import PerfpackError
    from perfpack.fastjson import loads
    from perfpack.lightos import read_fd
    from perfpack.safeio import open_regular

    try:  # judged by fstat of what was opened (O_NONBLOCK|O_NOFOLLOW): a FIFO swapped in never blocks
        fd, info = open_regular(path, what="transcript", follow_symlinks=False)
    except FileNotFoundError:
        raise PerfpackError(f"transcript {path}: no such file") from None
    try:
        if info.st_size > TAIL_BYTES:
            os.lseek(fd, info.st_size - TAIL_BYTES, os.SEEK_SET)
            data = read_fd(fd, TAIL_BYTES)
            data = data[data.find(b"\n") + 1:] if b"\n" in data else b""  # a partial first line
        else:
            data = read_fd(fd, TAIL_BYTES)
    except OSError as exc:
        raise PerfpackError(f"transcript {path}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if not data:
        raise PerfpackError(f"transcript {path}: not a Claude Code transcript (no line ends in its "
                            f"last {TAIL_BYTES // (1024 * 1024)} MB)")
    parsed = 0
    for number, raw in enumerate(reversed(data.splitlines()), 1):
        if not raw.strip():
            continue
        try:
            entry = loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            if b'"assistant"' in raw:
                raise PerfpackError(f"transcript {path}: line {number} from the end is not UTF-8",
                                    hint="pass the transcript Claude Code wrote, unchanged") from None
            continue
        except (ValueError, RecursionError):
            continue
        parsed += 1
        text = assistant_text(entry)
        if text:
            return text
    if data.strip() and not parsed:
        raise PerfpackError(f"transcript {path}: not a Claude Code transcript (no JSON line in it)",
                            hint="pass the JSON Lines file hooks receive as transcript_path, or use "
                                 "--message")
    return ""


def assistant_text(entry: object) -> str:
    """The text blocks of one transcript entry if it is an assistant message (tool calls ignored)."""
    if not isinstance(entry, dict) or entry.get("type") != "assistant":
        return ""
    message = entry.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = [block.get("text") for block in content if isinstance(block, dict)
             and block.get("type") == "text" and isinstance(block.get("text"), str)]
    return "\n".join(part for part in parts if part)


def read_message_file(path: str) -> str:
    from perfpack.errors import PerfpackError
    from perfpack.safeio import read_user_text

    try:
        return read_user_text(path, what="message", max_bytes=MAX_MESSAGE_BYTES)
    except FileNotFoundError:
        raise PerfpackError(f"message {path}: no such file") from None
