"""Claude Code hook events dispatched to their handlers; run by perfpack/hook.py, the script the hooks name
(`/abs/python -S /abs/.../perfpack/hook.py EVENT [ARGS]`), which only imports this module: a script run by
path is compiled at every start, a module comes from its cached .pyc.

Standard library only on this import path, because it runs on every prompt; `-S` (no `site`) and no
`os` import (perfpack.lightos) keep its start below a bare `python -c pass`. It fails open: any
trouble of its own means exit 0 and no output, so a user's prompt is never blocked by perfpack.
Events: `user-prompt-submit` (prompt routing), `pre-tool-use` (atomic-commit check on `git commit`),
`subagent-stop` and `stop` (the evidence check: figures in a pack agent's or /optimize's final message
that perfpack never measured send it back once).
"""

import sys

# event name -> "module:function(argv, stdin_bytes) -> (exit_code, stdout_text)"
HANDLERS = {
    "user-prompt-submit": "perfpack.route.hook:handle",
    "pre-tool-use": "perfpack.commits.hook:handle",
    "subagent-stop": "perfpack.evidence.hook:handle_subagent_stop",
    "stop": "perfpack.evidence.hook:handle_stop",
}

MAX_STDIN_BYTES = 1024 * 1024  # a hook payload larger than this is not a prompt we should score


def _read_stdin() -> bytes:
    try:
        data = sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)
    except (OSError, ValueError, AttributeError):
        return b""
    if len(data) > MAX_STDIN_BYTES:
        # Drain the rest so Claude Code's writer does not see a broken pipe, then ignore it all.
        try:
            while sys.stdin.buffer.read(1 << 20):
                pass
        except (OSError, ValueError):
            pass
        return b""
    return data


def main(argv=None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in HANDLERS:
        return 0
    try:
        from perfpack.lightos import getenv

        if (getenv("PERFPACK_HOOKS") or "1").lower() in ("0", "off", "false", "no"):
            return 0
        stdin = _read_stdin()
        if not stdin.strip():
            return 0
        module_name, _, function = HANDLERS[args[0]].partition(":")
        module = __import__(module_name, fromlist=[function])
        code, output = getattr(module, function)(args[1:], stdin)
        if output:
            sys.stdout.write(output)
            sys.stdout.flush()
        return code
    except BaseException:
        _log_failure(args)
        return 0


def _log_failure(args) -> None:
    """One line under .claude/perfpack/hook.log when PERFPACK_HOOK_DEBUG is set; never raises."""
    try:
        import os
        import traceback

        if not os.environ.get("PERFPACK_HOOK_DEBUG"):
            return

        from perfpack.lightos import append, is_real_dir

        root = os.environ.get("CLAUDE_PROJECT_DIR") or os.getcwd()
        claude = os.path.join(root, ".claude")
        folder = os.path.join(claude, "perfpack")
        if not (is_real_dir(claude) and is_real_dir(folder)):
            return  # an installed project only, never through a symlinked folder
        line = f"{args!r}: {traceback.format_exc().strip().splitlines()[-1]}"[:2000] + "\n"
        append(os.path.join(folder, "hook.log"), line.encode("utf-8", "replace"))  # O_NOFOLLOW, no FIFO
    except BaseException:
        pass


def run() -> None:
    """Dispatch sys.argv's event and end the process with its exit code."""
    code = main()
    try:
        sys.stdout.flush()
        import posix

        posix._exit(code)  # skip tearing down the loaded rules and modules: nothing is left to write
    except BaseException:
        pass
    raise SystemExit(code)
