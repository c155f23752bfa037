"""perfpack's exit codes: one contract for every command, documented once (README "Exit codes").

Plain int constants rather than an `enum.IntEnum`: importing `enum` costs ~5 ms, half a bare interpreter
start, and the memory write path and the hooks use these too.
"""

from __future__ import annotations


class ExitCode:
    """What a perfpack process's exit status means. CI can tell a finding from a broken tool."""

    OK = 0  # fine: no findings, no regression, budgets and thresholds hold
    FINDINGS = 1  # findings, violations, a breached budget or threshold, a significant regression
    USAGE = 2  # usage or environment error: bad arguments or input, unusable files; nothing changed
    INTERNAL = 3  # a bug in perfpack: one line on stderr, the traceback in a log file
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it

    MEANINGS = {
        OK: "fine: no findings, no regression, budgets and thresholds hold",
        FINDINGS: "findings, violations, a breached budget or threshold, or a significant regression",
        USAGE: "usage or environment error: bad arguments, unreadable or malformed input, an unusable "
               "database — one line on stderr, nothing changed",
        INTERNAL: "internal error (a bug in perfpack): one line on stderr, the traceback in a log file",
        INTERRUPTED: "interrupted (Ctrl-C); what was measured so far is printed where the command can",
    }
