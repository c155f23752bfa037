"""Agent memory that survives sessions and parallel subagents: one SQLite (WAL) database per project."""

from perfpack.memory.api import (
    DEFAULT_BUDGET,
    AgentMemoryManager,
    forget,
    load_my_memory,
    load_shared_context,
    memory_status,
    recent_insights,
    save_my_memory,
    send_message_to_agents,
    top_insights,
)

__all__ = [
    "DEFAULT_BUDGET",
    "AgentMemoryManager",
    "forget",
    "load_my_memory",
    "load_shared_context",
    "memory_status",
    "recent_insights",
    "save_my_memory",
    "send_message_to_agents",
    "top_insights",
]
