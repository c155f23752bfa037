"""A throw-away PostgreSQL cluster in a temporary folder, for tests and benchmarks.

initdb into a fresh folder, start the server on a unix socket in that folder (and, when asked, on
127.0.0.1 at a free port), stop it and delete everything at the end, even after a failure. The server
refuses to run as root, so under root every server program runs as the `postgres` system user that
Debian's package creates.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

_BIN_GLOBS = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/opt/homebrew/opt/postgresql*/bin")


def find_bindir() -> Path | None:
    """The folder with initdb/pg_ctl/postgres: $PERFPACK_PG_BINDIR, Debian's newest, then PATH."""
    wanted = os.environ.get("PERFPACK_PG_BINDIR")
    candidates = [wanted] if wanted else []
    for pattern in _BIN_GLOBS:
        candidates += sorted(glob.glob(pattern), key=_version_key, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(os.path.dirname(on_path))
    for folder in candidates:
        if folder and all(
            os.access(os.path.join(folder, p), os.X_OK) for p in ("initdb", "pg_ctl", "postgres")
        ):
            return Path(folder)
    return None


def _version_key(path: str) -> tuple[int, ...]:
    parts = [p for p in path.split("/") if p.replace(".", "").isdigit()]
    return tuple(int(x) for x in parts[0].split(".")) if parts else (0,)


def missing_reason() -> str | None:
    """Why a scratch cluster cannot start here (None when it can)."""
    if find_bindir() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; install postgresql-15"
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` system user to run the server as"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ScratchCluster:
    """`with ScratchCluster() as pg: pg.url()` - a private server that is gone after the block."""

    def __init__(
        self,
        *,
        tcp: bool = False,
        password: str | None = None,
        settings: dict[str, str] | None = None,
        preload: tuple[str, ...] = (),
    ) -> None:
        self.tcp = tcp
        self.password = password
        self.settings = dict(settings or {})
        self.preload = preload
        self.bindir = find_bindir()
        self.folder: Path | None = None
        self.port = free_port() if tcp else 5432
        self._running = False

    # -- life cycle -------------------------------------------------------------------------------
    def __enter__(self) -> ScratchCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        reason = missing_reason()
        if reason:
            raise RuntimeError(reason)
        assert self.bindir is not None
        self.folder = Path(tempfile.mkdtemp(prefix="perfpack-pg-"))
        os.chmod(self.folder, 0o755)
        data, sock = self.folder / "data", self.folder / "sock"
        sock.mkdir()
        initdb = [
            str(self.bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--auth-local=trust",
            "--no-sync",
            "--auth-host=" + ("trust" if self.password is None else "scram-sha-256"),
        ]
        if self.password is not None:
            pwfile = self.folder / "pw"
            pwfile.write_text(self.password + "\n")
            initdb += [f"--pwfile={pwfile}"]
        self._chown(self.folder)
        self._run(initdb)
        if self.password is not None:
            (self.folder / "pw").unlink()
        conf = {
            "listen_addresses": "'127.0.0.1'" if self.tcp else "''",
            "port": str(self.port),
            "unix_socket_directories": f"'{sock}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "'64MB'",
            "max_connections": "40",
            "logging_collector": "on",
            "log_directory": "'log'",
            "log_filename": "'postgresql.log'",
            "log_line_prefix": "'%m [%p] '",
        }
        if self.preload:
            conf["shared_preload_libraries"] = "'" + ",".join(self.preload) + "'"
        conf.update(self.settings)
        with open(data / "postgresql.conf", "a", encoding="utf-8") as handle:
            handle.write("\n# perfpack scratch cluster\n")
            handle.writelines(f"{key} = {value}\n" for key, value in conf.items())
        self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(self.folder / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        self._running = True

    def stop(self) -> None:
        if self.folder is None:
            return
        if self._running and self.bindir is not None:
            try:
                self._run(
                    [
                        str(self.bindir / "pg_ctl"),
                        "-D",
                        str(self.folder / "data"),
                        "-m",
                        "immediate",
                        "-w",
                        "-t",
                        "30",
                        "stop",
                    ]
                )
            except (subprocess.SubprocessError, OSError):
                pass
            self._running = False
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    # -- helpers ----------------------------------------------------------------------------------
    @property
    def socket_dir(self) -> str:
        assert self.folder is not None
        return str(self.folder / "sock")

    @property
    def log_path(self) -> Path:
        assert self.folder is not None
        return self.folder / "data" / "log" / "postgresql.log"

    def url(
        self, dbname: str = "postgres", user: str = "postgres", password: str | None = None, tcp: bool = False
    ) -> str:
        """A connection URL: over the unix socket, or 127.0.0.1 (with a password) when `tcp`."""
        from urllib.parse import quote

        cred = quote(user, safe="") + (":" + quote(password, safe="") if password is not None else "")
        if tcp:
            return f"postgresql://{cred}@127.0.0.1:{self.port}/{quote(dbname, safe='')}"
        host = quote(self.socket_dir, safe="")
        return f"postgresql://{cred}@/{quote(dbname, safe='')}?host={host}&port={self.port}"

    def connect(self, dbname: str = "postgres", **kwargs: Any) -> Any:
        import psycopg

        return psycopg.connect(self.url(dbname), autocommit=True, **kwargs)

    def _chown(self, path: Path) -> None:
        if os.geteuid() != 0:
            return
        import pwd

        entry = pwd.getpwnam("postgres")
        for folder, dirs, files in os.walk(path):
            for name in [
                folder,
                *(os.path.join(folder, d) for d in dirs),
                *(os.path.join(folder, f) for f in files),
            ]:
                os.chown(name, entry.pw_uid, entry.pw_gid)

    def _run(self, argv: list[str]) -> None:
        kwargs: dict[str, Any] = {}
        if os.geteuid() == 0:
            kwargs["user"] = "postgres"
            kwargs["group"] = "postgres"
            kwargs["extra_groups"] = []
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.folder,
            env={**os.environ, "LC_ALL": "C"},
            **kwargs,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"{os.path.basename(argv[0])} failed ({proc.returncode}): "
                f"{(proc.stderr or proc.stdout).strip()[-500:]}"
            )
