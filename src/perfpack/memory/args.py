"""The one argument parser of `perfpack memory`: click-free (an agent runs it per action) and typed.

`parse(argv)` gives an `Args` (every option a typed attribute) or a `HelpRequest`; bad arguments raise
PerfpackError (one line, exit 2). Commands and their options are declared once, in COMMANDS, which
also writes the help.
"""

from __future__ import annotations

from perfpack.errors import PerfpackError

# option flag -> (attribute of Args, kind, help); kind: "flag", "int", "float", "str", "path" or "a|b|c"
OPTIONS: dict[str, tuple[str, str, str]] = {
    "--db": ("db", "path", "memory database (default: ROOT/.claude/memory/memory.db); inside the project"),
    "--format": ("format", "json|text|markdown", "output format (default: json)"),
    "--success": ("success", "flag", "count a success"),
    "--failure": ("failure", "flag", "count a failure"),
    "--task-type": ("task_type", "str", "kind of task the collaboration was on"),
    "--peek": ("peek", "flag", "leave the messages unread"),
    "--limit": ("limit", "int", "at most N results"),
    "--agent": ("agent", "str", "only this agent's records"),
    "--kind": ("kind", "task|insight|message", "only this kind of record"),
    "--no-fts": ("no_fts", "flag", "search with the plain scan, not the FTS5 index"),
    "--budget": ("budget", "int", "at most BYTES of JSON (default 4096)"),
    "--out": ("out", "path", "write to FILE inside the project instead of stdout"),
    "--force": ("force", "flag", "let --out replace an existing file"),
    "--retention-days": ("retention_days", "float", "keep messages this many days (default 30)"),
    "--no-vacuum": ("no_vacuum", "flag", "skip VACUUM"),
    "--match": ("match", "str", "records containing every one of these WORDS"),
    "--yes": ("yes", "flag", "apply (without it, only list what would change)"),
    "--repair": ("repair", "flag", "repair what the check found (keeps a backup first)"),
}
GLOBAL = ("--db", "--format")


class Spec:
    """One subcommand: usage line, one-line summary, a longer description, its options, positional bounds."""

    __slots__ = ("usage", "summary", "description", "options", "min_pos", "max_pos")

    def __init__(self, usage: str, summary: str, description: str, options: tuple[str, ...],
                 min_pos: int, max_pos: int) -> None:
        self.usage, self.summary, self.description = usage, summary, description
        self.options, self.min_pos, self.max_pos = options, min_pos, max_pos


_JSON_IN = "JSON is an argument, or read from stdin when it is - or missing."
MANY = 10_000
COMMANDS: dict[str, Spec] = {
    "task": Spec("AGENT [JSON | -]", "Record a finished task of AGENT.",
                 'JSON: {"task_description": "...", "outcome": "success|partial|failure", '
                 '"key_insights": [...], '
                 '"delegations": [{"to_agent": "...", "reason": "...", "outcome": "..."}]}. ' + _JSON_IN,
                 (), 1, 2),
    "insight": Spec("AGENT [JSON | -]", "Record an optimization insight of AGENT (refreshes its MEMORY.md).",
                    'JSON: {"area": "caching", "insight": "...", "impact": "low|medium|high", '
                    '"confidence": 0.9}. '
                    "The same insight again (same agent, area and text) is merged: its count and last-seen "
                    "time go up. " + _JSON_IN, (), 1, 2),
    "collab": Spec("AGENT COLLABORATOR (--success | --failure) [--task-type TYPE]",
                   "Count one success or failure of AGENT working with COLLABORATOR.",
                   "Counters are incremented in SQL, so parallel agents never lose a count.",
                   ("--success", "--failure", "--task-type"), 2, 2),
    "message": Spec("AGENT [JSON | -]", "Send a message from AGENT to other agents.",
                    'JSON: {"type": "insight", "content": "...", "target_agents": [] (= broadcast), '
                    '"metadata": {}}. ' + _JSON_IN, (), 1, 2),
    "unread": Spec("AGENT [--peek] [--limit N]", "Messages for AGENT it has not read yet (marks them read).",
                   "--peek leaves them unread.", ("--peek", "--limit"), 1, 1),
    "search": Spec("QUERY... [--agent AGENT] [--kind task|insight|message] [--limit N] [--no-fts]",
                   "Find tasks, insights and messages containing every word of QUERY.",
                   "Uses SQLite FTS5 when the build has it and the index is sound, a plain scan otherwise.",
                   ("--agent", "--kind", "--limit", "--no-fts"), 1, MANY),
    "load": Spec("AGENT [--budget BYTES]",
                 "AGENT's recent tasks, most valuable insights, collaborators, state.",
                 "At most BUDGET bytes of JSON (default 4096): insights by value (impact x confidence, then "
                 "the most recently seen), never the whole store. Pass the object (changed) to `save`.",
                 ("--budget",), 1, 1),
    "shared": Spec("[--budget BYTES]",
                   "Context shared by all agents: broadcasts, top insights, collaborations.",
                   "At most BUDGET bytes of JSON (default 4096).", ("--budget",), 0, 0),
    "save": Spec("AGENT [JSON | -]", "Save the object `load` returned: its state and entries without an id.",
                 "Refused (exit 2, nothing written) if another process saved a newer version since the load.",
                 (), 1, 2),
    "forget": Spec("[ID...] [--match WORDS] [--agent AGENT] [--kind insight|task|message] [--yes]",
                   "Remove records by id, or those containing every word of --match (dry run without --yes).",
                   "Default kind: insight. Applied, the search index and the agents' MEMORY.md follow.",
                   ("--match", "--agent", "--kind", "--yes"), 0, MANY),
    "check": Spec("[--repair]", "Run SQLite's integrity check on the memory database and say what it found.",
                  "--repair keeps a backup (memory.db.backup-TIME), rebuilds the indexes and the search "
                  "index, "
                  "and says what, if anything, was lost. Exit 1 when problems remain.", ("--repair",), 0, 0),
    "info": Spec("", "The database in use: path, SQLite version, schema, record counts, search index.",
                 "", (), 0, 0),
    "export": Spec("[--agent AGENT] [--format json|markdown] [--out FILE [--force]]",
                   "Export the memory as JSON or Markdown.",
                   "The JSON export round-trips through `import`. --out writes inside the project only, "
                   "never through a symbolic link, and replaces an existing file only with --force.",
                   ("--agent", "--out", "--force"), 0, 0),
    "import": Spec("[FILE | -]",
                   "Merge a JSON export into the memory (idempotent: known records are skipped).",
                   "Reads FILE, or stdin when FILE is - or missing.", (), 0, 1),
    "compact": Spec("[--retention-days DAYS] [--no-vacuum]",
                    "Delete messages older than the retention (default 30 days), tidy the index, VACUUM.",
                    "", ("--retention-days", "--no-vacuum"), 0, 0),
}


class Args:
    """A parsed `perfpack memory` command line: one typed attribute per option."""

    __slots__ = ("command", "positionals", "db", "format", "success", "failure", "task_type", "peek", "limit",
                 "agent", "kind", "no_fts", "budget", "out", "force", "retention_days", "no_vacuum", "match",
                 "yes", "repair")

    def __init__(self, command: str) -> None:
        self.command = command
        self.positionals: list[str] = []
        self.db: str | None = None
        self.format: str | None = None
        self.success = False
        self.failure = False
        self.task_type = ""
        self.peek = False
        self.limit: int | None = None
        self.agent: str | None = None
        self.kind: str | None = None
        self.no_fts = False
        self.budget: int | None = None
        self.out: str | None = None
        self.force = False
        self.retention_days = 30.0
        self.no_vacuum = False
        self.match: str | None = None
        self.yes = False
        self.repair = False


class HelpRequest:
    """`--help` was asked for: `text` is what to print (exit 0); `to_stderr` for a bare `perfpack memory`."""

    __slots__ = ("text", "to_stderr")

    def __init__(self, text: str, to_stderr: bool = False) -> None:
        self.text, self.to_stderr = text, to_stderr


def parse(argv: list[str]) -> Args | HelpRequest:
    args = list(argv)
    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            raise PerfpackError("an argument is not valid UTF-8") from None
    common = Args("")
    while args and args[0].startswith("-") and args[0] != "-":
        if args[0] in ("-h", "--help"):
            return HelpRequest(top_help())
        _take(args, GLOBAL, common, "perfpack memory")
    if not args:
        return HelpRequest(top_help(), to_stderr=True)
    name = args.pop(0)
    spec = COMMANDS.get(name)
    if spec is None:
        raise PerfpackError(f"unknown memory command {name!r}", hint=f"one of: {', '.join(COMMANDS)}")
    head = args[: args.index("--")] if "--" in args else args
    if "-h" in head or "--help" in head:
        return HelpRequest(sub_help(name))
    parsed = Args(name)
    parsed.db, parsed.format = common.db, common.format
    allowed = GLOBAL + spec.options
    while args:
        arg = args[0]
        if arg == "--":
            parsed.positionals += args[1:]
            break
        if arg.startswith("-") and arg != "-" and not _is_number(arg):
            _take(args, allowed, parsed, f"perfpack memory {name}")
        else:
            parsed.positionals.append(args.pop(0))
    fmt = parsed.format
    if fmt == "markdown" and name != "export":
        raise PerfpackError(f"--format must be json or text for `memory {name}`, not 'markdown'")
    count = len(parsed.positionals)
    if count < spec.min_pos or count > spec.max_pos:
        if count > spec.max_pos:
            problem = f"`memory {name}`: too many arguments"
        else:
            words = [w for w in spec.usage.split()[: spec.min_pos]]
            needs = "a QUERY" if words == ["QUERY..."] else " and ".join(words)
            problem = f"`memory {name}` needs {needs}"
        raise PerfpackError(problem, hint=f"usage: perfpack memory {name} {spec.usage}")
    return parsed


def _take(args: list[str], allowed: tuple[str, ...], into: Args, where: str) -> None:
    arg = args.pop(0)
    flag, eq, inline = arg.partition("=")
    if flag not in allowed:
        raise PerfpackError(f"unknown option {flag} for `{where}`", hint=f"see `{where} --help`")
    attr, kind, _help = OPTIONS[flag]
    if kind == "flag":
        if eq:
            raise PerfpackError(f"option {flag} takes no value")
        setattr(into, attr, True)
        return
    if eq:
        value = inline
    elif args:
        value = args.pop(0)
    else:
        raise PerfpackError(f"option {flag} needs a value")
    if kind == "int":
        try:
            number = int(value)
        except ValueError:
            raise PerfpackError(f"option {flag} needs a whole number, not {value!r}") from None
        if not 1 <= number <= 1_000_000:
            raise PerfpackError(f"option {flag} must be from 1 to 1000000, not {number}")
        setattr(into, attr, number)
    elif kind == "float":
        try:
            real = float(value)
        except ValueError:
            raise PerfpackError(f"option {flag} needs a number, not {value!r}") from None
        if not 0 <= real <= 36_500:  # also refuses nan and inf
            raise PerfpackError(f"option {flag} must be from 0 to 36500, not {value}")
        setattr(into, attr, real)
    elif "|" in kind and value not in kind.split("|"):
        raise PerfpackError(f"option {flag} must be one of {kind.replace('|', ', ')}, not {value!r}")
    else:
        if not value or "\0" in value:
            raise PerfpackError(f"option {flag} needs a non-empty value")
        setattr(into, attr, value)


def _is_number(arg: str) -> bool:
    try:
        float(arg)
        return True
    except ValueError:
        return False


TOP_HELP = """Usage: perfpack memory [--db PATH] [--format json|text] COMMAND [ARGS]...

  Agent memory that survives sessions and parallel subagents: task history, optimization
  insights, collaboration counters and messages between agents, in one SQLite (WAL) database
  at ROOT/.claude/memory/memory.db ($PERFPACK_MEMORY_DB or --db PATH inside the project for another).
  JSON in (an argument, or stdin when it is - or missing) and JSON out (--format text for people).

Options:
  --db PATH             memory database (default: ROOT/.claude/memory/memory.db)
  --format json|text    output format (default: json)
  -h, --help            show this message

Commands:
{commands}

Exit codes: 0 done; 1 `check` found problems it did not repair; 2 bad input, or a database that is
locked, on a full disk or read-only file system, or damaged (each said in one line on stderr;
nothing written).
"""


def top_help() -> str:
    rows = "\n".join(f"  {name:<10} {spec.summary}" for name, spec in COMMANDS.items())
    return TOP_HELP.format(commands=rows)


def sub_help(name: str) -> str:
    spec = COMMANDS[name]
    lines = [f"Usage: perfpack memory [--db PATH] {name} {spec.usage}".rstrip(), "", f"  {spec.summary}"]
    if spec.description:
        lines += ["", f"  {spec.description}"]
    lines += ["", "Options:"]
    for flag in spec.options + GLOBAL:
        _attr, kind, text = OPTIONS[flag]
        shown = flag if kind == "flag" else f"{flag} {kind.upper() if '|' not in kind else kind}"
        if flag == "--format" and name != "export":
            shown, text = "--format json|text", "output format (default: json)"
        if flag == "--format" and name == "export":
            shown, text = "--format json|markdown", "export format (default: json)"
        lines.append(f"  {shown:<22} {text}")
    lines += ["  -h, --help             show this message", "",
              "Exit codes: 0 done, 2 bad input or an unusable database (nothing written)."]
    return "\n".join(lines) + "\n"
