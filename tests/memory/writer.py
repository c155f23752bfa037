"""A real writer process for the concurrency tests: writes N records, reporting each one after COMMIT returns.

usage: writer.py DB NAME COUNT REPORT_FILE [--digest]
"""

import os
import sys

from perfpack.memory import AgentMemoryManager


def main() -> None:
    db, name, count, report = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    fd = os.open(report, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    with AgentMemoryManager(db, digest="--digest" in sys.argv) as manager:
        for i in range(count):
            kind = i % 4
            if kind == 0:
                result = manager.add_task_to_history(
                    name, {"task_description": f"{name} task {i}", "outcome": "success"}
                )
            elif kind == 1:
                result = manager.add_optimization_insight(
                    name,
                    {
                        "area": "caching",
                        "insight": f"{name} insight {i}",
                        "impact": "medium",
                        "confidence": 0.5,
                    },
                )
            elif kind == 2:
                manager.update_collaboration_pattern(name, "shared-partner", success=True, task_type="load")
                result = {"kind": "collab", "uid": f"collab-{name}-{i}"}
            else:
                result = manager.send_message(name, "note", f"{name} message {i}", [], {"i": i})
                result["kind"] = "message"
            # Reported only after the commit returned: every reported line must survive a SIGKILL.
            os.write(fd, f"{result['kind']} {result['uid']}\n".encode())
    os.close(fd)


if __name__ == "__main__":
    main()
