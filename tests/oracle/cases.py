"""The oracle's generated cases: agent, command, skill and plugin files that probe what Claude Code does.

Deterministic (no randomness): the same code gives the same cases, and each case's content hash is stored
with the CLI's verdicts so stale data is detected. Every case is small; many are loaded in one CLI run.
Third-party pack files are never used here: every case is written by this generator.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

AGENT, COMMAND, SKILL, PLUGIN = "agent", "command", "skill", "plugin"
MARKER = "oracle-case:"  # in every body: a subagent's system prompt names the case it came from


@dataclass
class Case:
    """One probe. `files` are relative to the project root (agents, commands, skills) or the plugin root."""

    id: str
    kind: str
    note: str
    files: dict[str, str]
    description: str | None = None  # the description as written (to see whether the CLI read it back)
    # cases of one group share a CLI run; "solo": a run of its own (it changes the session)
    group: str = "main"
    tags: list[str] = field(default_factory=list)

    @property
    def digest(self) -> str:
        blob = json.dumps([self.kind, self.files], sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _fm(lines: list[str], body: str, *, newline: str = "\n", bom: bool = False) -> str:
    text = newline.join(["---", *lines, "---", body, ""])
    return ("\ufeff" if bom else "") + text


class _Builder:
    def __init__(self) -> None:
        self.cases: list[Case] = []
        self.counts: dict[str, int] = {}

    def _id(self, prefix: str) -> str:
        self.counts[prefix] = self.counts.get(prefix, 0) + 1
        return f"{prefix}{self.counts[prefix]:03d}"

    # ---- agents -------------------------------------------------------------------------------------------
    def agent(self, note: str, lines: list[str] | None = None, *, raw: str | None = None,
              name: str | None = "auto", description: str | None = "auto", newline: str = "\n",
              bom: bool = False, group: str = "main", extra_files: dict[str, str] | None = None,
              tags: list[str] | None = None) -> Case:
        cid = self._id("a")
        body = f"You are a test agent. {MARKER}{cid}"
        if raw is not None:
            text = raw.replace("{BODY}", body).replace("{ID}", cid)
            desc = None
        else:
            head: list[str] = []
            if name == "auto":
                head.append(f"name: oracle-{cid}")
            elif name is not None:
                head.append(name.replace("{ID}", cid))
            desc = f"Probe {cid} for the validator oracle" if description == "auto" else description
            if description == "auto":
                head.append(f"description: {desc}")
            elif description is not None:
                head.append(description.replace("{ID}", cid))
                desc = None
            text = _fm(head + [line.replace("{ID}", cid) for line in (lines or [])], body, newline=newline,
                       bom=bom)
        files = {f".claude/agents/{cid}.md": text}
        files.update(extra_files or {})
        case = Case(cid, AGENT, note, files, desc, group, list(tags or []))
        self.cases.append(case)
        return case

    # ---- commands and skills ------------------------------------------------------------------------------
    def command(self, note: str, lines: list[str] | None, body: str, *, raw: str | None = None,
                skill: bool = False, group: str = "main", tags: list[str] | None = None) -> Case:
        cid = self._id("s" if skill else "c")
        body = f"{body}\n\n{MARKER}{cid}"
        if raw is not None:
            text = raw.replace("{BODY}", body).replace("{ID}", cid)
        elif lines is None:
            text = body + "\n"
        else:
            text = _fm([line.replace("{ID}", cid) for line in lines], body)
        path = f".claude/skills/{cid}/SKILL.md" if skill else f".claude/commands/{cid}.md"
        case = Case(cid, SKILL if skill else COMMAND, note, {path: text}, None, group, list(tags or []))
        self.cases.append(case)
        return case

    # ---- plugins ------------------------------------------------------------------------------------------
    def plugin(self, note: str, manifest: object | str | None, files: dict[str, str], *,
               tags: list[str] | None = None) -> Case:
        cid = self._id("p")
        out: dict[str, str] = {}
        if manifest is not None:
            text = manifest if isinstance(manifest, str) else json.dumps(manifest, indent=2)
            out[".claude-plugin/plugin.json"] = text.replace("{ID}", cid)
        for path, content in files.items():
            out[path.replace("{ID}", cid)] = content.replace("{ID}", cid).replace("{MARK}", f"{MARKER}{cid}")
        case = Case(cid, PLUGIN, note, out, None, cid, list(tags or []))
        self.cases.append(case)
        return case


# Tool names worth probing: current, removed, renamed, deferred, MCP, Agent(...), wrong case, patterns.
TOOL_NAMES = [
    "Read", "Write", "Edit", "Bash", "Grep", "Glob", "TodoWrite", "WebFetch", "WebSearch", "NotebookEdit",
    "LS", "NotebookRead", "MultiEdit", "BashOutput", "KillShell", "Task", "Agent", "Skill", "TaskStop",
    "TaskCreate", "TaskGet", "TaskList", "TaskUpdate", "TaskOutput", "Monitor", "ListAgents", "ToolSearch",
    "SendMessage", "CronCreate", "EnterWorktree", "ExitPlanMode", "SlashCommand", "read", "bash", "READ",
    "mcp__github", "mcp__github__create_issue", "Agent(Explore)", "Task(Explore)", "Bash(git log:*)",
    "Read(./src/**)", "*", "FrobTool", "Workflow", "ReportFindings", "ScheduleWakeup",
    "WebFetch(domain:x.org)",
]

MODELS = ["sonnet", "opus", "haiku", "fable", "inherit", "claude-sonnet-4-5", "claude-opus-4-1-20250805",
          "claude-3-5-haiku-20241022", "thinking", "gpt-4", "Sonnet", "HAIKU", "sonnet-4", "opus[1m]",
          "claude-sonnet-4-5[1m]", "default", "'sonnet'", "\"\"", "null", "123", "[sonnet]", "best"]

YAML_SCALARS = [  # (value as written, note): YAML 1.1 / 1.2 quirks and borderline scalars
    ("yes", "1.1 bool"), ("no", "1.1 bool"), ("on", "1.1 bool"), ("off", "1.1 bool"), ("true", "bool"),
    ("Null", "null"), ("~", "null"), ("", "empty"), ("0o17", "1.2 octal"), ("017", "1.1 octal"),
    ("1e3", "float"), ("0x1F", "hex"), (".inf", "inf"), ("2024-01-01", "timestamp"),
    ("12:30:00", "sexagesimal"), ("'quoted: colon'", "single quoted"),
    ("\"dq \\u00e9\"", "double quoted escape"), ("Use when: x", "colon"), ("a #not comment", "hash"),
    ("a # comment", "comment"),
    ("@at start", "reserved @"), ("`backtick start", "reserved backtick"), ("%percent", "percent"),
    ("*undefined", "undefined alias"), ("&anc value", "anchor"), ("!tag value", "local tag"),
    ("!!str 123", "str tag"), ("!!binary aGk=", "binary"), ("[a, b]", "flow list"), ("{a: 1}", "flow map"),
    ("- item", "block seq start"), ("|", "literal empty"), (">", "folded empty"),
    ("'unterminated", "unterminated quote"), ("\"unterminated", "unterminated dq"),
    ("x: y: z", "nested colon"), ("a\tb", "tab inside"), ("<example>x</example>", "xml"),
    ("é ünïcödé ✓", "unicode"), ("? complex", "complex key marker"),
]


def _agents(b: _Builder) -> None:
    b.agent("valid minimal agent")
    b.agent("valid agent with every documented key", [
        "tools: Read, Bash", "disallowedTools: Write", "model: haiku", "color: blue",
        "permissionMode: default", "maxTurns: 5", "memory: project", "background: false", "effort: low",
        "isolation: worktree", "initialPrompt: start here", "skills: [oracle-skill]"])
    # required keys
    b.agent("no name", name=None)
    b.agent("no description", description=None)
    b.agent("neither name nor description", name=None, description=None, lines=["tools: Read"])
    b.agent("empty name", name="name: ''")
    b.agent("null name", name="name:")
    b.agent("empty description", description="description: ''")
    b.agent("null description", description="description:")
    b.agent("numeric name", name="name: 12345")
    b.agent("boolean name", name="name: yes")
    b.agent("list name", name="name: [a, b]")
    # name shapes
    for i, value in enumerate(["Oracle-{ID}", "oracle_{ID}", "oracle {ID}", "oracle:{ID}", "-oracle-{ID}",
                               "oracle-{ID}-", "ORACLE-{ID}", "oracle.{ID}", "oracle/{ID}", "oracle-{ID}-ünï",
                               "\"oracle-{ID}\"", "'oracle-{ID}'", "oracle--{ID}", "o" * 70 + "-{ID}",
                               "oracle-{ID} # comment", "oracle-{ID}\\n::error x"]):
        b.agent(f"name shape {i}: {value}", name=f"name: {value}")
    b.agent("name differs from file name (docs: need not match)", name="name: different-{ID}")
    # descriptions: YAML quirks
    for value, note in YAML_SCALARS:
        b.agent(f"description {note}: {value}", description=f"description: {value}", tags=["yaml"])
    for value, note in YAML_SCALARS[:24]:
        b.agent(f"tools {note}: {value}", ["tools: " + value], tags=["yaml"])
    b.agent("description literal block", description="description: |\n  line one\n  line two")
    b.agent("description folded block", description="description: >-\n  folded one\n  folded two")
    b.agent("description multi-line plain indented", description="description: first\n  second line")
    b.agent("description multi-line unindented", description="description: first\nsecond line here")
    b.agent("description with example blocks unindented",
            description="description: Use it.\n<example>\nuser: hi\n</example>")
    b.agent("description with Examples: line", description="description: Use it.\nExamples: one, two")
    b.agent("description with colon-space in a CRLF file", description="description: Use when: x",
            newline="\r\n")
    b.agent("valid agent in a CRLF file", newline="\r\n")
    b.agent("valid agent with BOM", bom=True)
    b.agent("description very long (3000 chars)", description="description: " + "word " * 600)
    b.agent("description with escaped newline in double quotes", description='description: "one\\ntwo"')
    b.agent("description list", description="description: [a, b]")
    b.agent("description mapping", description="description:\n  a: 1")
    b.agent("description number", description="description: 42")
    b.agent("description anchor and alias", description="description: &d anchored text", lines=["x-copy: *d"])
    b.agent("merge key", ["base: &b {color: red}", "<<: *b"])
    b.agent("duplicate key name", ["name: second-{ID}"])
    b.agent("duplicate key description", ["description: second description"])
    b.agent("tab indentation in a block", ["hooks:", "\tPreToolUse: []"])
    # frontmatter framing
    b.agent("no frontmatter", raw="Just a body. {BODY}\n")
    b.agent("unclosed frontmatter", raw="---\nname: oracle-{ID}\ndescription: unclosed\n{BODY}\n")
    b.agent("blank line before the opening ---",
            raw="\n---\nname: oracle-{ID}\ndescription: x\n---\n{BODY}\n")
    b.agent("space before the opening ---", raw=" ---\nname: oracle-{ID}\ndescription: x\n---\n{BODY}\n")
    b.agent("opening --- with trailing spaces",
            raw="---   \nname: oracle-{ID}\ndescription: x\n---\n{BODY}\n")
    b.agent("closing --- with trailing spaces", raw="---\nname: oracle-{ID}\ndescription: x\n---  \n{BODY}\n")
    b.agent("closing ... instead of ---", raw="---\nname: oracle-{ID}\ndescription: x\n...\n{BODY}\n")
    b.agent("early --- before tools", raw="---\nname: oracle-{ID}\ndescription: x\n---\ntools: Read\n---\n"
                                          "{BODY}\n")
    b.agent("early --- before name", raw="---\ndescription: x\n---\nname: oracle-{ID}\n---\n{BODY}\n")
    b.agent("empty frontmatter", raw="---\n---\n{BODY}\n")
    b.agent("frontmatter is a list", raw="---\n- name: oracle-{ID}\n---\n{BODY}\n")
    b.agent("frontmatter is a scalar", raw="---\njust text\n---\n{BODY}\n")
    b.agent("comment-only lines and keys", raw="---\n# c\nname: oracle-{ID}  # c\ndescription: x # c\n---\n"
                                               "{BODY}\n")
    b.agent("YAML document start inside", raw="---\n%YAML 1.2\nname: oracle-{ID}\ndescription: x\n---\n"
                                              "{BODY}\n")
    b.agent("body empty", raw="---\nname: oracle-{ID}\ndescription: empty body {ID}\n---\n")
    b.agent("frontmatter only, no trailing newline", raw="---\nname: oracle-{ID}\ndescription: x\n---")
    # tools
    for tool in TOOL_NAMES:
        b.agent(f"tool {tool}", [f"tools: Read, {tool}"], tags=["tools"])
        b.agent(f"tool {tool} alone", [f"tools: {tool}"], tags=["tools"])
    b.agent("tools as a YAML block list", ["tools:", "  - Read", "  - Bash", "  - Edit"])
    b.agent("tools as a flow list", ["tools: [Read, Bash, Edit]"])
    b.agent("tools space-separated", ["tools: Read Bash Edit"])
    b.agent("tools with trailing comma", ["tools: Read, Bash,"])
    b.agent("tools empty string", ["tools: ''"])
    b.agent("tools null", ["tools:"])
    b.agent("tools all unknown", ["tools: Frob, Blah"])
    b.agent("tools all removed", ["tools: LS, MultiEdit"])
    b.agent("tools only Grep, Glob", ["tools: Grep, Glob"])
    b.agent("tools only TodoWrite", ["tools: TodoWrite"])
    b.agent("tools with Agent(a, b)", ["tools: Read, Agent(Explore, Plan)"])
    b.agent("tools number", ["tools: 5"])
    b.agent("tools mcp only", ["tools: mcp__github__create_issue"])
    b.agent("tools Read with memory", ["tools: Bash", "memory: project"])
    b.agent("tools Grep with memory", ["tools: Grep", "memory: user"])
    for key in ("disallowedTools: Bash", "disallowedTools: Write, Edit", "disallowedTools: [Bash]",
                "disallowedTools: Frob", "disallowed-tools: Bash", "disallowedTools: Agent"):
        b.agent(f"disallowed: {key}", ["tools: Read, Bash, Write, Edit", key])
    # typos of tools keys: the agent gets every tool
    for key in ("allowed-tools: Read", "allowedTools: Read", "Tools: Read", "tool: Read", "tools : Read"):
        b.agent(f"tools key typo: {key}", [key])
    # models
    for model in MODELS:
        b.agent(f"model {model}", [f"model: {model}"], tags=["model"])
    # other keys
    values = {
        "color": ["red", "blue", "green", "yellow", "purple", "orange", "pink", "cyan", "magenta", "Red",
                  "#ff0000",
                  "automatic", "1"],
        "permissionMode": ["default", "acceptEdits", "auto", "dontAsk", "bypassPermissions", "plan", "manual",
                           "yolo", "AcceptEdits"],
        "maxTurns": ["1", "50", "0", "-1", "'5'", "2.5", "many", "100000"],
        "memory": ["user", "project", "local", "global", "true", "none"],
        "background": ["true", "false", "yes", "'true'", "maybe"],
        "effort": ["low", "medium", "high", "xhigh", "max", "extreme", "LOW"],
        "isolation": ["worktree", "container", "none"],
        "initialPrompt": ["hello", "''", "[a]"],
        "skills": ["[oracle-skill]", "oracle-skill", "[missing-skill]", "[]", "5"],
        "mcpServers": ["[github]", "github", "{github: {command: x}}", "[]"],
        "hooks": ["{}", "{PreToolUse: []}", "[]", "nonsense"],
    }
    for key, options in values.items():
        for value in options:
            b.agent(f"{key}: {value}", [f"{key}: {value}"], tags=["keys"])
    # keys the CLI may or may not know
    for key in ("triggers: {keywords: {slow: 2}}", "delegates-to: [general-purpose]",
                "external-agents: {db-specialist: general-purpose}", "argument-hint: x",
                "allowed-tools: Read", "disable-model-invocation: true", "hide-from-slash-command-tool: true",
                "version: 1.0", "author: me", "tags: [a, b]", "category: perf", "x-custom: 1", "Name: Upper",
                "DESCRIPTION: up", "when-to-use: x", "context: fork", "agent: general-purpose",
                "user-invocable: false", "examples: [a]", "priority: 1", "license: MIT", "metadata: {a: 1}",
                "capabilities: [a]", "thinking: true", "temperature: 0.2", "system_prompt: x", "prompt: x",
                "instructions: x", "disallowed_tools: Bash", "max_turns: 3", "permission-mode: plan",
                "mcp-servers: [x]", "initial-prompt: x"):
            b.agent(f"key {key.split(':')[0]}", [key], tags=["keys"])
    # duplicate names in one project
    for i in range(2):
        b.agent(f"duplicate name pair member {i}", name="name: oracle-dup-pair", group="dup")
    b.agent("duplicate name differing in case", name="name: Oracle-Dup-Pair", group="dup")


BANG_LINES = [
    ("echo hello", None), ("git status", None), ("git status --short", None), ("git log --oneline -3", None),
    ("git diff --stat", None), ("git branch --show-current", None), ("ls", None), ("ls -la", None),
    ("pwd", None), ("date", None), ("cat README.md", None), ("head -5 README.md", None),
    ("wc -l README.md", None), ("cat /etc/hostname", None), ("cat ../outside.txt", None),
    ("cat ~/.bashrc", None), ("grep -n shop README.md", None), ("git log @{u}.. --oneline", None),
    ("echo {a,b}", None), ("echo $(date)", None), ("echo `date`", None), ("touch made-here.txt", None),
    ("touch /tmp/oracle-outside.txt", None), ("mkdir -p made-dir", None), ("rm -f not-there.txt", None),
    ("python3 -c 'print(1)'", None), ("node -e 'console.log(1)'", None), ("echo a && echo b", None),
    ("echo a; echo b", None), ("echo a | wc -c", None), ("ls | head -3", None),
    ("git status && git log --oneline -1", None), ("echo a > out.txt", None),
    ("echo a >> /tmp/oracle-append.txt", None), ("echo $HOME", None), ("echo \"$PWD\"", None),
    ("FOO=1 echo a", None), ("sleep 0", None), ("true", None), ("false", None), ("exit 3", None),
    ("which git", None), ("env | head -1", None), ("find . -maxdepth 1 -name '*.md'", None),
    ("sort README.md", None), ("git rev-parse HEAD", None), ("git show --stat HEAD", None),
    ("uname -a", None), ("npm --version", None), ("make --version", None), ("echo 'a;b'", None),
    ("echo \"a|b\"", None), ("bash -c 'echo x'", None), ("sh -c 'echo x'", None), ("eval echo x", None),
    ("xargs echo < README.md", None), ("cd .. && ls", None), ("cd /tmp && ls", None),
    ("test -f README.md && echo yes", None), ("git -C . status", None), ("printf '%s\\n' a", None),
    ("echo ${HOME}", None), ("echo $((1+1))", None), ("cat README.md | head -1", None),
    ("tee out2.txt < README.md", None), ("git add README.md", None), ("git commit -m x --allow-empty", None),
]

ALLOWED_FORMS = [
    None, "Bash", "Bash(*)", "Bash(echo:*)", "Bash(echo *)", "Bash(git log:*)", "Bash(git:*)",
    "Bash(git status)", "Bash(cat:*)", "Bash(touch:*)", "[Bash(echo:*), Read]", "Bash(echo:*), Read",
    "Bash(echo:*) Bash(git:*)", "bash", "Bash()", "Read", "'Bash(echo:*)'", "[Bash]",
    "Bash(ls:*), Bash(cat:*), Bash(git status:*)", "Bash(python3:*)", "Bash(mkdir:*)", "Bash(rm:*)",
]


def _commands(b: _Builder) -> None:
    # every ! line shape without allowed-tools, with bare Bash, and with a matching prefix rule
    for line, _ in BANG_LINES:
        b.command(f"bang `{line}` with no allowed-tools", ["description: probe {ID}"], f"Out: !`{line}`",
                  tags=["bang"])
        b.command(f"bang `{line}` with bare Bash", ["description: probe {ID}", "allowed-tools: Bash"],
                  f"Out: !`{line}`", tags=["bang"])
        first = line.split()[0]
        b.command(f"bang `{line}` with Bash({first}:*)",
                  ["description: probe {ID}", f"allowed-tools: Bash({first}:*)"], f"Out: !`{line}`",
                  tags=["bang"])
    for form in ALLOWED_FORMS:
        for line in ("echo allowed-form", "git log --oneline -1", "touch form-file.txt"):
            lines = ["description: probe {ID}"] + ([f"allowed-tools: {form}"] if form else [])
            b.command(f"allowed-tools {form!r} with `{line}`", lines, f"Out: !`{line}`", tags=["allowed"])
    # where a ! is recognised
    b.command("bang at line start", ["allowed-tools: Bash(echo:*)"], "!`echo start`")
    b.command("bang after text without space", ["allowed-tools: Bash(echo:*)"], "x!`echo glued`")
    b.command("bang inside inline code", ["allowed-tools: Bash(echo:*)"], "Use `!`echo code``")
    b.command("bang in a fenced block", ["allowed-tools: Bash(echo:*)"], "```\n!`echo fenced`\n```")
    b.command("bang block ```!", ["allowed-tools: Bash(echo:*)"], "```!\necho block\n```")
    b.command("bang block ```! not allowed", None, "```!\ntouch /tmp/oracle-block.txt\n```")
    b.command("two bang lines, second refused", ["allowed-tools: Bash(echo:*)"],
              "A: !`echo one`\nB: !`echo {x,y}`")
    b.command("bang with empty command", ["allowed-tools: Bash"], "Out: !``")
    # arguments inside ! lines (injection)
    for arg in ("$ARGUMENTS", "$1", "$0", "$ARGUMENTS[0]", "\"$ARGUMENTS\"", "'$ARGUMENTS'", "$issue"):
        lines = ["description: probe {ID}", "allowed-tools: Bash(echo:*)"]
        if arg == "$issue":
            lines.append("arguments: [issue]")
        b.command(f"argument {arg} inside a bang line", lines, f"Out: !`echo {arg}`", tags=["argument"])
    b.command("argument outside the bang line", ["allowed-tools: Bash(echo:*)"],
              "Out: !`echo safe`\nArgs: $ARGUMENTS")
    # frontmatter of commands
    for value in ("[a] [b]", "[issue-number] [priority]", "'[a] [b]'", "''", "", "42", "<file>", "[a]",
                  "{a: 1}"):
        b.command(f"argument-hint {value!r}", ["description: probe {ID}", f"argument-hint: {value}"],
                  "Say hi.", tags=["hint"])
    for model in MODELS[:12]:
        b.command(f"command model {model}", ["description: probe {ID}", f"model: {model}"], "Say hi.",
                  tags=["model"])
    for value in ("description: Use when: x", "description: yes", "description: [a, b]", "description:",
                  "description: first\nsecond line", "description: |\n  block", "description: 'q: x'"):
        b.command(f"command {value.splitlines()[0]}", [value], "Say hi.", tags=["yaml"])
    b.command("command without frontmatter", None, "Just say hi.")
    b.command("command with unparsable frontmatter", ["description: x", "<example>", "a: ["], "Say hi.")
    b.command("command unclosed frontmatter", None, "", raw="---\ndescription: unclosed\n{BODY}\n")
    for key in ("disable-model-invocation: true", "disable-model-invocation: false",
                "disable-model-invocation: yes", "context: fork", "agent: general-purpose",
                "context: fork\nagent: Explore", "effort: low", "hide-from-slash-command-tool: true",
                "user-invocable: false", "tools: Read", "name: renamed-{ID}", "color: red", "triggers: [x]",
                "disallowed-tools: Bash", "hooks: {}", "when_to_use: x", "allowed_tools: Bash(echo:*)",
                "allowedTools: Bash(echo:*)", "model: inherit"):
        b.command(f"command key {key.splitlines()[0]}", ["description: probe {ID}", *key.split("\n")],
                  "Out: !`echo keyprobe`", tags=["keys"], group="solo")
    b.command("command BOM", None, "", raw="\ufeff---\ndescription: bom\nallowed-tools: Bash(echo:*)\n---\n"
                                          "Out: !`echo bom`\n{BODY}\n")
    b.command("command CRLF", None, "", raw="---\r\ndescription: crlf\r\nallowed-tools: Bash(echo:*)\r\n"
                                            "---\r\n"
                                           "Out: !`echo crlf`\r\n{BODY}\r\n")
    # skills (SKILL.md makes /name too)
    b.command("skill valid", ["name: oracle-skill", "description: a skill"], "Skill body.", skill=True)
    b.command("skill without name", ["description: a skill"], "Skill body.", skill=True)
    b.command("skill without description", ["name: oracle-skill-nodesc"], "Skill body.", skill=True)
    b.command("skill bang allowed", ["description: s", "allowed-tools: Bash(echo:*)"], "Out: !`echo skill`",
              skill=True)
    b.command("skill bang refused", ["description: s"], "Out: !`touch /tmp/oracle-skill.txt`", skill=True)
    b.command("skill unparsable", ["description: x", "<example>", "a: ["], "Skill body.", skill=True)
    b.command("skill name differs from folder", ["name: other-name-{ID}", "description: s"], "Skill body.",
              skill=True)
    b.command("skill with agent keys", ["description: s", "tools: Read", "model: haiku"], "Skill body.",
              skill=True)
    b.command("skill disable-model-invocation", ["description: s", "disable-model-invocation: true"],
              "Skill body.", skill=True)
    b.command("skill argument in bang", ["description: s", "allowed-tools: Bash(echo:*)"],
              "Out: !`echo $ARGUMENTS`", skill=True)


def _plugin_agent(name: str, extra: str = "") -> str:
    return f"---\nname: {name}\ndescription: plugin agent {name} of {{ID}}\n{extra}---\nBody {{MARK}}\n"


def _plugin_command() -> str:
    return ("---\ndescription: plugin command of {ID}\nallowed-tools: Bash(echo:*)\n---\n"
            "Out: !`echo plug`\n{MARK}\n")


def _plugins(b: _Builder) -> None:
    base = {"agents/pa.md": _plugin_agent("pa"), "commands/pc.md": _plugin_command()}
    b.plugin("valid minimal plugin", {"name": "orc-{ID}"}, base)
    b.plugin("valid plugin with metadata", {"name": "orc-{ID}", "version": "1.0.0", "description": "d",
                                            "author": {"name": "me"}, "license": "MIT",
                                            "keywords": ["a"]}, base)
    b.plugin("no plugin.json", None, base)
    b.plugin("plugin.json without name", {"version": "1.0.0"}, base)
    b.plugin("name with spaces", {"name": "orc {ID}"}, base)
    b.plugin("name upper case", {"name": "Orc-{ID}"}, base)
    b.plugin("name with a colon", {"name": "orc:{ID}"}, base)
    b.plugin("author as a string", {"name": "orc-{ID}", "author": "me"}, base)
    b.plugin("version a number", {"name": "orc-{ID}", "version": 1}, base)
    b.plugin("keywords a string", {"name": "orc-{ID}", "keywords": "a"}, base)
    b.plugin("unknown manifest key", {"name": "orc-{ID}", "frobnicate": True}, base)
    b.plugin("invalid JSON", '{"name": "orc-{ID}",}', base)
    b.plugin("empty manifest file", "", base)
    b.plugin("manifest is a list", "[]", base)
    b.plugin("manifest with NaN", '{"name": "orc-{ID}", "x": NaN}', base)
    b.plugin("manifest with 1e400", '{"name": "orc-{ID}", "x": 1e400}', base)
    b.plugin("manifest 1,000 deep", '{"name": "orc-{ID}", "x": ' + "[" * 1000 + "]" * 1000 + "}", base)
    b.plugin("manifest 5,000-digit number", '{"name": "orc-{ID}", "x": ' + "9" * 5000 + "}", base)
    b.plugin("agents: folder in a list", {"name": "orc-{ID}", "agents": ["./agents"]}, base)
    b.plugin("agents: folder string", {"name": "orc-{ID}", "agents": "./agents"}, base)
    b.plugin("agents: listed file", {"name": "orc-{ID}", "agents": ["./agents/pa.md"]},
             {**base, "agents/pb.md": _plugin_agent("pb")})
    b.plugin("agents: custom path file", {"name": "orc-{ID}", "agents": ["./custom/pz.md"]},
             {**base, "custom/pz.md": _plugin_agent("pz")})
    b.plugin("agents: custom folder string", {"name": "orc-{ID}", "agents": "./custom"},
             {"custom/pz.md": _plugin_agent("pz")})
    b.plugin("agents: path without ./", {"name": "orc-{ID}", "agents": ["agents/pa.md"]}, base)
    b.plugin("agents: missing file", {"name": "orc-{ID}", "agents": ["./agents/none.md"]}, base)
    b.plugin("agents: path escaping the plugin", {"name": "orc-{ID}", "agents": ["../outside.md"]}, base)
    b.plugin("commands: custom folder", {"name": "orc-{ID}", "commands": "./cmds"},
             {"cmds/pk.md": _plugin_command()})
    b.plugin("commands: listed file", {"name": "orc-{ID}", "commands": ["./cmds/pk.md"]},
             {"cmds/pk.md": _plugin_command(), "commands/pc.md": _plugin_command()})
    b.plugin("hooks: names ./hooks/hooks.json", {"name": "orc-{ID}", "hooks": "./hooks/hooks.json"},
             {**base, "hooks/hooks.json": '{"hooks": {}}'})
    b.plugin("hooks.json without top-level hooks", {"name": "orc-{ID}"},
             {**base, "hooks/hooks.json": '{"UserPromptSubmit": []}'})
    b.plugin("hooks.json invalid JSON", {"name": "orc-{ID}"}, {**base, "hooks/hooks.json": "{"})
    b.plugin("components inside .claude-plugin", {"name": "orc-{ID}"},
             {".claude-plugin/agents/pa.md": _plugin_agent("pa")})
    b.plugin("plugin agent that does not parse", {"name": "orc-{ID}"},
             {"agents/pa.md": "---\nname: pa\ndescription: x\n<example>\na: [\n---\nBody {MARK}\n"})
    b.plugin("plugin agent without name", {"name": "orc-{ID}"},
             {"agents/pa.md": "---\ndescription: no name\n---\nBody {MARK}\n"})
    b.plugin("plugin agent with unknown keys", {"name": "orc-{ID}"},
             {"agents/pa.md": _plugin_agent("pa", "triggers: [x]\n")})
    b.plugin("plugin agent with permissionMode and hooks", {"name": "orc-{ID}"},
             {"agents/pa.md": _plugin_agent("pa", "permissionMode: plan\nhooks: {}\nmcpServers: [x]\n")})
    b.plugin("plugin agent with a colon in its name", {"name": "orc-{ID}"},
             {"agents/pa.md": _plugin_agent("pa:x")})
    b.plugin("two plugin agents with one name", {"name": "orc-{ID}"},
             {"agents/pa.md": _plugin_agent("same"), "agents/pb.md": _plugin_agent("same")})
    b.plugin("plugin agent name shared with another plugin (namespaced)", {"name": "orc-{ID}"},
             {"agents/pa.md": _plugin_agent("shared-name")})
    b.plugin("plugin agent name shared with another plugin, second", {"name": "orc-{ID}"},
             {"agents/pa.md": _plugin_agent("shared-name")})
    b.plugin("plugin skill", {"name": "orc-{ID}"},
             {"skills/ps/SKILL.md": "---\nname: ps\ndescription: plugin skill\n---\nSkill {MARK}\n"})
    b.plugin("plugin agents nested folder", {"name": "orc-{ID}"}, {"agents/sub/pa.md": _plugin_agent("pa")})
    b.plugin("plugin agent file not .md", {"name": "orc-{ID}"}, {"agents/pa.txt": _plugin_agent("pa")})
    b.plugin("plugin README in agents/", {"name": "orc-{ID}"},
             {**base, "agents/README.md": "# Agents\nThis folder holds agents.\n"})
    # held-out packs (benchmarks/heldout.py): plugin commands whose ! lines name ${CLAUDE_PLUGIN_ROOT}
    shapes = (("quoted", 'echo "${CLAUDE_PLUGIN_ROOT}/scripts/x.py"'), ("bare", "ls ${CLAUDE_PLUGIN_ROOT}"),
              ("as the program", "${CLAUDE_PLUGIN_ROOT}/run.sh"))
    for note, line in shapes:
        b.plugin(f"plugin command: ${{CLAUDE_PLUGIN_ROOT}} in a ! line, {note}", {"name": "orc-{ID}"},
                 {"commands/pc.md": "---\ndescription: plugin command of {ID}\nallowed-tools: Bash(echo:*), "
                  f"Bash(ls:*), Bash(${{CLAUDE_PLUGIN_ROOT}}/run.sh)\n---\nOut: !`{line}`\n{{MARK}}\n",
                  "run.sh": "#!/bin/sh\necho ran\n"}, tags=["commands"])
    # 2.1.337's `claude plugin validate` warns that claude.ai refuses a plugin with files in bin/ (PP411):
    # does Claude Code itself still load it?
    b.plugin("a file in bin/", {"name": "orc-{ID}"}, {**base, "bin/tool": "#!/bin/sh\necho ran\n"})
    b.plugin("only a dotfile in bin/", {"name": "orc-{ID}"}, {**base, "bin/.gitkeep": ""})


def generate() -> list[Case]:
    builder = _Builder()
    _agents(builder)
    _commands(builder)
    _plugins(builder)
    return builder.cases


if __name__ == "__main__":
    cases = generate()
    kinds: dict[str, int] = {}
    for case in cases:
        kinds[case.kind] = kinds.get(case.kind, 0) + 1
    print(len(cases), kinds)
