# perfpack's launcher for a profiled non-Python command (a shell script, `make`, a native program), run
# BY PATH as `PYTHON -I -S _launch.py GATE STATUS OUTPUT -- CMD...` under the profiler (py-spy following
# child processes, or perf). Python commands are run by _boot.py instead.
#
# - GATE: a FIFO to wait on before starting CMD ("-" for none). perfpack writes "go" once py-spy has
#   attached to this process, so a profiler that cannot attach costs nothing: CMD never ran, and the
#   fallback engine runs it once (a program is never run twice).
# - STATUS: where the command's exit status, wall time and CPU time are written (py-spy and perf do not
#   report the exit status of what they ran).
# - OUTPUT: the command's stdout and stderr go there, so its output cannot flood the summary.
# Standard library only, Python 3.8+ (it may run under the profiled program's own interpreter).
import os
import signal
import sys
import time


def main(argv):
    gate, status_path, output_path = argv[0], argv[1], argv[2]
    command = argv[4:]
    if gate != "-":
        with open(gate, "rb") as fifo:
            if fifo.read(2) != b"go":
                return 0
    # Ctrl-C and --duration stop the command with SIGINT sent to the whole group; the launcher outlives
    # it to report its status. The command gets SIGINT's default action back (setsigdef).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = os.open(output_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
    start = time.perf_counter()
    try:
        pid = os.posix_spawn(
            command[0],
            command,
            os.environ,
            file_actions=[(os.POSIX_SPAWN_DUP2, out, 1), (os.POSIX_SPAWN_DUP2, out, 2)],
            setsigdef=(signal.SIGINT,),
        )
    except OSError as exc:
        _write(status_path, f"spawn_error={exc.strerror or exc}\n")
        return 0
    os.close(out)
    _write(status_path, f"pid={pid}\nlauncher={os.getpid()}\n")
    while True:
        try:
            _, status, usage = os.wait4(pid, 0)
            break
        except InterruptedError:
            continue
    wall = time.perf_counter() - start
    code = (
        os.waitstatus_to_exitcode(status)
        if hasattr(os, "waitstatus_to_exitcode")
        else (-os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))
    )
    _write(
        status_path,
        f"pid={pid}\nlauncher={os.getpid()}\nexit={code}\nwall_s={wall:.6f}\n"
        f"cpu_s={usage.ru_utime + usage.ru_stime:.6f}\n",
    )
    return 0


def _write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
