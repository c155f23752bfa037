"""Agent memory that survives sessions and parallel subagents: one SQLite (WAL) database per project."""

from perfpack.memory.api import (
    DEFAULT_BUDGET,
    AgentMemoryManager,
    load_my_memory,
    load_shared_context,
    recent_insights,
    save_my_memory,
    send_message_to_agents,
)

__all__ = [
    "DEFAULT_BUDGET",
    "AgentMemoryManager",
    "load_my_memory",
    "load_shared_context",
    "recent_insights",
    "save_my_memory",
    "send_message_to_agents",
]
