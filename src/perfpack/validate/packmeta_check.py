"""agents/perfpack.toml, beside the agent files it describes: its shape, its agent names, its routing
triggers and its delegation targets (perfpack's own metadata; Claude Code never reads the file)."""

from __future__ import annotations

from pathlib import Path

from perfpack.errors import PerfpackError
from perfpack.findings import Finding
from perfpack.packmeta import PackMeta, load_pack_meta
from perfpack.validate.agents import check_delegation
from perfpack.validate.markdown import Context
from perfpack.validate.rules import rule


def read_folder_meta(path: Path, display: str) -> tuple[PackMeta, list[Finding]] | None:
    """(metadata, findings about its shape) for an agents folder's perfpack.toml at `path`; None if absent.

    A FIFO, folder or device there is one finding, as an unreadable file is (route --compile refuses it),
    never skipped: unlike an agent file, which the CLI itself only takes when regular."""
    meta, problems = load_pack_meta(path)  # through perfpack.safeio: a FIFO never blocks
    if meta.path is None:
        return None  # no such file
    return meta, [rule("PP212").finding(display, p.line, 1, p.message, p.fix) for p in problems]


def check_folder_meta(meta: PackMeta, display: str, agent_names: set[str], ctx: Context) -> list[Finding]:
    """Names that are not agents of the folder, triggers the router would refuse, delegation targets."""
    from perfpack.route.compile import compile_triggers

    out: list[Finding] = []
    for name, agent in meta.agents.items():
        line = meta.line_of("agents", name)
        if name.lower() not in agent_names:
            out.append(rule("PP212").finding(display, line, 1, f"[agents.{name}]: no agent named `{name}` in "
                                             "this folder", "use the `name:` of one of the agent files"))
        if agent.triggers:
            where = meta.line_of("agents", name, "triggers")
            try:
                compile_triggers(name, agent.triggers, "")
            except PerfpackError as exc:
                message = exc.message.removeprefix(": ")
                message = message if message.startswith("triggers") else f"triggers: {message}"
                out.append(rule("PP212").finding(display, where, 1, f"agents.{name}.{message}",
                                                 exc.hint or ""))
        targets = [(target, meta.line_of("agents", name, "delegates-to"), 1, "delegates-to")
                   for target in agent.delegates_to]
        line = meta.line_of("agents", name, "external-agents")
        fallbacks = [(external, fallback, line, 1) for external, fallback in agent.external_agents.items()]
        out += check_delegation(display, targets, {n.lower() for n in agent.external_agents}, fallbacks, ctx)
    return out
