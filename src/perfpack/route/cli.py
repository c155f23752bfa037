"""`perfpack route`: explain which agent a prompt goes to and why; compile the rules the hook reads."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from perfpack.errors import PerfpackError
from perfpack.exitcodes import ExitCode
from perfpack.report import format_choices


def _default_rules_file() -> Path | None:
    from perfpack.project import find_project_root, perfpack_dir

    candidate = perfpack_dir(find_project_root()) / "routes.json"
    return candidate if candidate.is_file() else None


def _load(rules_file: str | None, agents_dir: str | None):
    """Rules from --rules, else from --agents (compiled in memory), else the project's routes.json,
    else the pack's own agents."""
    from perfpack.route.compile import compile_agents
    from perfpack.route.engine import RuleSet, load_rules

    if rules_file:
        try:
            return load_rules(rules_file), rules_file
        except OSError as exc:
            raise PerfpackError(f"{rules_file}: cannot read rules: {exc.strerror or exc}") from None
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError, RecursionError) as exc:
            raise PerfpackError(f"{rules_file}: not a valid routes file: {exc}",
                                hint="rebuild it with `perfpack route --compile`") from None
    if not agents_dir:
        found = _default_rules_file()
        if found:
            return _load(str(found), None)
        from perfpack.resources import pack_root

        agents_dir = str(pack_root() / "agents")
    return RuleSet(compile_agents(Path(agents_dir))), f"{agents_dir} (compiled in memory)"


def _read_prompt(prompt: str | None) -> str:
    if prompt is None or prompt == "-":
        data = sys.stdin.buffer.read(1024 * 1024 + 1)
        if len(data) > 1024 * 1024:
            raise PerfpackError("prompt on stdin is larger than 1 MB")
        try:
            prompt = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PerfpackError(f"prompt on stdin is not UTF-8 (byte 0x{data[exc.start]:02x} "
                                f"at {exc.start})") from None
    if not prompt.strip():
        raise PerfpackError("empty prompt", hint='perfpack route "the checkout page is slow"')
    return prompt


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("prompt", required=False)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--format", "fmt", type=click.Choice(format_choices("text", "json")), default="text",
              show_default=True)
@click.option("--rules", "rules_file", metavar="FILE", help="A compiled routes.json to use.")
@click.option("--agents", "agents_dir", metavar="DIR",
              help="Folder of agent .md files and their perfpack.toml (default: the pack's agents/).")
@click.option("--compile", "do_compile", is_flag=True, help="Compile --agents DIR into --out FILE and exit.")
@click.option("--check", "do_check", is_flag=True,
              help="Exit 1 if --out FILE is not what --compile would write.")
@click.option("--out", "out_file", metavar="FILE",
              help="Where --compile writes (default: PROJECT/.claude/perfpack/routes.json).")
def route(prompt: str | None, as_json: bool, fmt: str, rules_file: str | None, agents_dir: str | None,
          do_compile: bool, do_check: bool, out_file: str | None) -> int:
    """Explain which performance agent PROMPT is routed to, its score, and the words that decided it.

    PROMPT "-" (or none) reads the prompt from stdin. Rules come from --rules FILE, else --agents DIR,
    else the project's .claude/perfpack/routes.json, else the pack's own agents.

    \b
    perfpack route "why is the checkout API so slow?"
    perfpack route --json "p99 latency doubled under load"
    perfpack route --compile --agents agents --out hooks/routes.json
    perfpack route --check --agents agents --out hooks/routes.json

    Exit codes: 0 an agent was chosen (or rules compiled / up to date), 1 no agent for this prompt
    (or --check found the file stale), 2 bad input (unreadable prompt or rules).
    """
    fmt = "json" if as_json else fmt
    if do_compile or do_check:
        return _compile(agents_dir, out_file, do_check, fmt)
    from perfpack.route.engine import route as score

    text = _read_prompt(prompt)
    rules, source = _load(rules_file, agents_dir)
    try:
        decision = score(text, rules)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # right version, wrong shape
        raise PerfpackError(f"{source}: not a valid routes file: {exc}",
                            hint="rebuild it with `perfpack route --compile`") from None
    if fmt == "json":
        click.echo(json.dumps({**decision.as_dict(), "rules": str(source)}, indent=2))
    elif decision.agent:
        how = (f"probability {decision.score:.2f} of a performance request" if rules.model is not None
               else f"score {decision.score:g}")
        click.echo(f"{decision.agent}  ({how})")
        click.echo(f"  decided by: {', '.join(decision.terms)}")
    else:
        if decision.vetoed:
            why = f"vetoed by: {', '.join(decision.vetoed)}"
        elif rules.model is not None:
            why = (f"probability {decision.score:.2f} of a performance request, "
                   f"below {rules.model.threshold:g}")
        else:
            why = f"no agent reached its threshold; best score {decision.score:g}"
        click.echo(f"none  ({why})")
    if fmt == "text" and decision.scores:
        click.echo("  rule scores: " + ", ".join(f"{name} {value:g}"
                                                for name, value in sorted(decision.scores.items())))
    return ExitCode.OK if decision.agent else ExitCode.FINDINGS


def _compile(agents_dir: str | None, out_file: str | None, check: bool, fmt: str) -> int:
    from perfpack.project import find_project_root, perfpack_dir
    from perfpack.resources import pack_root
    from perfpack.route.compile import compile_agents, render_routes, write_routes

    agents = Path(agents_dir) if agents_dir else pack_root() / "agents"
    out = Path(out_file) if out_file else perfpack_dir(find_project_root()) / "routes.json"
    note = "" if agents_dir else _edited_triggers_note(find_project_root(), agents)
    if check:
        wanted = render_routes(compile_agents(agents))
        from perfpack.safeio import read_user_bytes

        try:  # through safeio: a FIFO at --out is one line and exit 2, not a hang
            current = read_user_bytes(out, what="--out")
        except FileNotFoundError:
            current = None
        fresh = current == wanted.encode("utf-8")
        message = f"{out}: {'up to date' if fresh else 'stale or missing'} (from {agents})"
        click.echo(json.dumps({"path": str(out), "up_to_date": fresh}) if fmt == "json" else message + note)
        return ExitCode.OK if fresh else ExitCode.FINDINGS
    written = write_routes(agents, out)
    agents_count = len(json.loads(written.read_text(encoding="utf-8"))["agents"])
    if fmt == "json":
        click.echo(json.dumps({"path": str(written), "agents": agents_count}))
    else:
        click.echo(f"wrote {written} ({agents_count} agent(s) with triggers, from {agents})" + note)
    return ExitCode.OK


def _edited_triggers_note(root: Path, pack_agents: Path) -> str:
    """A line for the user who edited the installed copy of the triggers and ran --compile without
    --agents: it compiled the pack's own, not theirs."""
    installed = root / ".claude" / "agents" / "perfpack.toml"
    try:
        edited = installed.read_bytes() != (pack_agents / "perfpack.toml").read_bytes()
    except OSError:
        return ""
    if not edited:
        return ""
    return ("\nnote: these are the pack's triggers; this project's .claude/agents/perfpack.toml differs "
            "from them: add --agents .claude/agents to compile yours")
