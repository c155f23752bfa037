"""perfpack explain --capture: records the SQL statements a Python program sends.

`perfpack explain --capture -- CMD` puts this folder first on the program's PYTHONPATH, so Python runs
this file at start-up. It wraps sqlite3 and psycopg (3) connections as they are imported and appends,
per process, one line per statement (shape, time, rows, the program's line that sent it) to a file in
$PERFPACK_EXPLAIN_CAPTURE. Standard library only; any trouble of its own and it stands aside: the
program must run exactly as without it. At the end it runs the sitecustomize it shadows, if any.
"""

import os
import sys


def _install():
    out_dir = os.environ.get("PERFPACK_EXPLAIN_CAPTURE")
    shape_path = os.environ.get("PERFPACK_EXPLAIN_SHAPE")
    if not out_dir or not shape_path or not os.path.isdir(out_dir):
        return
    import atexit
    import importlib.util
    import json
    import threading
    import time
    import weakref

    spec = importlib.util.spec_from_file_location("_perfpack_explain_shape", shape_path)
    if spec is None or spec.loader is None:
        return
    shape_mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shape_mod)
    shape_of = shape_mod.shape
    perf = time.perf_counter_ns
    here = os.path.dirname(os.path.abspath(__file__))
    max_events = int(os.environ.get("PERFPACK_EXPLAIN_MAX_EVENTS", "2000000"))

    # -- the per-process log ----------------------------------------------------------------------
    class Log:
        def __init__(self):
            self.reset()

        def reset(self):
            self.pid = os.getpid()
            self.handle = None
            self.buf = []
            self.size = 0
            self.shapes = {}  # shape text -> id
            self.by_text = {}  # exact SQL text -> shape id (bounded)
            self.sites = {}
            self.dbs = {}
            self.events = 0
            self.overflow = {}  # shape id -> [count, ns] once max_events is reached
            self.lock = threading.RLock()

        def _write(self, line):
            self.buf.append(line)
            self.size += len(line)
            if self.size > 256 * 1024:
                self.flush()

        def flush(self):
            if not self.buf:
                return
            try:
                if self.handle is None:
                    path = os.path.join(out_dir, f"events-{self.pid}.log")
                    # kept open for the life of the process (closed by the interpreter at exit)
                    self.handle = open(path, "a", encoding="utf-8", errors="surrogatepass")  # noqa: SIM115
                self.handle.write("".join(self.buf))
                self.handle.flush()
            except (OSError, ValueError):
                pass
            self.buf = []
            self.size = 0

        def shape_id(self, text, example):
            with self.lock:
                return self._shape_id(text, example)

        def _shape_id(self, text, example):
            sid = self.by_text.get(text)
            if sid is not None:
                return sid
            shaped = shape_of(text)
            sid = self.shapes.get(shaped)
            if sid is None:
                sid = self.shapes[shaped] = len(self.shapes) + 1
                self._write(f"S\t{sid}\t{json.dumps(shaped)}\t{json.dumps(example or text)}\n")
            if len(self.by_text) < 20000:
                self.by_text[text] = sid
            return sid

        def site_id(self, site):
            with self.lock:
                sid = self.sites.get(site)
                if sid is None:
                    sid = self.sites[site] = len(self.sites) + 1
                    self._write(f"L\t{sid}\t{json.dumps(site)}\n")
                return sid

        def db_id(self, desc):
            key = json.dumps(desc, sort_keys=True)
            with self.lock:
                did = self.dbs.get(key)
                if did is None:
                    did = self.dbs[key] = len(self.dbs) + 1
                    self._write(f"D\t{did}\t{key}\n")
                return did

        def event(self, sid, start, dur, rows, db, site):
            with self.lock:
                if self.events >= max_events:
                    agg = self.overflow.setdefault(sid, [0, 0])
                    agg[0] += 1
                    agg[1] += dur
                    return
                self.events += 1
                n = -1 if rows is None else rows
                self._write(f"E\t{sid}\t{start}\t{dur}\t{n}\t{threading.get_ident()}\t{db}\t{site}\n")

        def close(self):
            with self.lock:
                for sid, (count, dur) in self.overflow.items():
                    self._write(f"O\t{sid}\t{count}\t{dur}\n")
                self.overflow = {}
                self.flush()

    log = Log()
    atexit.register(lambda: (_flush_open(), log.close()))
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=log.reset)

    skip_dirs = tuple({os.path.dirname(os.__file__), here, os.path.dirname(shape_path)})
    cwd = os.getcwd()

    def caller():
        """The program's own line that sent the statement: the first frame outside the standard
        library, site-packages and this file."""
        frame = sys._getframe(2)
        while frame is not None:
            name = frame.f_code.co_filename
            if not (
                name.startswith(skip_dirs)
                or "site-packages" in name
                or "dist-packages" in name
                or name.startswith("<frozen")
            ):
                if name.startswith(cwd + os.sep):
                    name = name[len(cwd) + 1 :]
                return f"{name}:{frame.f_lineno}"
            frame = frame.f_back
        return "?"

    # -- open statements: time and rows keep adding up until the cursor moves on ------------------
    open_events = {}  # id(cursor) -> (event [sid, start, dur, rows, db, site], weakref to the cursor)
    open_lock = threading.Lock()

    def _close_key(key):
        with open_lock:
            entry = open_events.pop(key, None)
        if entry is not None:
            log.event(*entry[0])

    def _close_event(cur):
        _close_key(id(cur))

    def _open_event(cur, ev):
        _close_event(cur)
        key = id(cur)
        # a cursor dropped before it is read to the end still counts, when it is collected
        ref = weakref.ref(cur, lambda _r, k=key: _close_key(k))
        with open_lock:
            open_events[key] = (ev, ref)

    def _flush_open():
        with open_lock:
            items = list(open_events.values())
            open_events.clear()
        for ev, _ref in items:
            log.event(*ev)

    # -- sqlite3 ----------------------------------------------------------------------------------
    def patch_sqlite3(mod):
        base_connect = mod.connect
        if getattr(base_connect, "_perfpack", False):
            return
        classes = {}

        def db_desc(database):
            try:
                name = os.fsdecode(database)
            except TypeError:
                return {"engine": "sqlite", "path": None}
            if name.startswith("file:"):
                name = name[5:].split("?", 1)[0]
                if name.startswith("//"):
                    name = name[2:]
                from urllib.parse import unquote

                name = unquote(name)
            if name in ("", ":memory:") or name.startswith(":memory:"):
                return {"engine": "sqlite", "path": None}
            return {"engine": "sqlite", "path": os.path.realpath(name)}

        def traced_cursor(factory):
            cls = classes.get(("cur", factory))
            if cls is not None:
                return cls

            class TracedCursor(factory):
                def execute(self, sql, *args, **kwargs):
                    return _run(self, super().execute, sql, args, kwargs, 1)

                def executemany(self, sql, seq, *args, **kwargs):
                    return _run(self, super().executemany, sql, (seq,) + args, kwargs, None)

                def executescript(self, script, *args, **kwargs):
                    return _script(self, super().executescript, script, args, kwargs)

                def fetchone(self):
                    t = perf()
                    row = super().fetchone()
                    _fetched(self, perf() - t, 0 if row is None else 1)
                    return row

                def fetchmany(self, *args, **kwargs):
                    t = perf()
                    rows = super().fetchmany(*args, **kwargs)
                    _fetched(self, perf() - t, len(rows))
                    return rows

                def fetchall(self):
                    t = perf()
                    rows = super().fetchall()
                    _fetched(self, perf() - t, len(rows))
                    return rows

                def __next__(self):
                    t = perf()
                    try:
                        row = super().__next__()
                    except StopIteration:
                        _fetched(self, perf() - t, 0)
                        _close_event(self)
                        raise
                    _fetched(self, perf() - t, 1)
                    return row

                def close(self):
                    _close_event(self)
                    return super().close()

            classes[("cur", factory)] = TracedCursor
            return TracedCursor

        def traced_connection(factory):
            cls = classes.get(("conn", factory))
            if cls is not None:
                return cls

            class TracedConnection(factory):
                def __init__(self, *args, **kwargs):
                    super().__init__(*args, **kwargs)
                    database = args[0] if args else kwargs.get("database", "")
                    self._perfpack_db = log.db_id(db_desc(database))
                    self._perfpack_traced = []
                    self._perfpack_user_trace = None
                    try:
                        super().set_trace_callback(self._perfpack_trace)
                    except Exception:
                        pass

                def _perfpack_trace(self, text):
                    self._perfpack_traced.append(text)
                    if self._perfpack_user_trace is not None:
                        self._perfpack_user_trace(text)

                def set_trace_callback(self, callback):
                    self._perfpack_user_trace = callback

                def cursor(self, factory=None, *args, **kwargs):
                    return super().cursor(traced_cursor(factory or mod.Cursor), *args, **kwargs)

                # Connection.execute and friends make their cursor in C, past cursor(): route them here
                def execute(self, sql, *args, **kwargs):
                    return self.cursor().execute(sql, *args, **kwargs)

                def executemany(self, sql, *args, **kwargs):
                    return self.cursor().executemany(sql, *args, **kwargs)

                def executescript(self, script, *args, **kwargs):
                    return self.cursor().executescript(script, *args, **kwargs)

                def commit(self):
                    return _simple(self, super().commit)

                def rollback(self):
                    return _simple(self, super().rollback)

            classes[("conn", factory)] = TracedConnection
            return TracedConnection

        def connect(*args, **kwargs):
            try:
                if len(args) > 5:
                    args = args[:5] + (traced_connection(args[5]),) + args[6:]
                else:
                    kwargs["factory"] = traced_connection(kwargs.get("factory") or mod.Connection)
            except Exception:
                return base_connect(*args, **kwargs)
            return base_connect(*args, **kwargs)

        connect._perfpack = True
        connect.__doc__ = base_connect.__doc__
        mod.connect = connect
        dbapi2 = sys.modules.get("sqlite3.dbapi2")
        if dbapi2 is not None:
            dbapi2.connect = connect

        def _take_traced(conn):
            traced = conn._perfpack_traced
            conn._perfpack_traced = []
            return [t for t in traced if not t.startswith("--")]  # "-- TRIGGER x" lines

        def _record(conn, cur, statements, dur, rows, site, keep_open):
            if not statements:
                return
            share = dur // len(statements)
            start = perf() - dur
            for i, (text, key) in enumerate(statements):
                sid = log.shape_id(key, text)
                ev = [
                    sid,
                    start + i * share,
                    share,
                    rows if i == len(statements) - 1 else None,
                    conn._perfpack_db,
                    site,
                ]
                if keep_open and i == len(statements) - 1:
                    _open_event(cur, ev)
                else:
                    log.event(*ev)

        def _run(cur, call, sql, args, kwargs, n):
            conn = cur.connection
            if not hasattr(conn, "_perfpack_traced"):
                return call(sql, *args, **kwargs)
            _close_event(cur)
            _take_traced(conn)
            t = perf()
            try:
                return call(sql, *args, **kwargs)
            finally:
                dur = perf() - t
                try:
                    traced = _take_traced(conn)
                    site = log.site_id(caller())
                    key = sql if isinstance(sql, str) else str(sql)
                    # the implicit BEGIN sqlite3 sends before a write is its own statement
                    mine = [(t_, key) for t_ in traced if not t_.upper().startswith("BEGIN")]
                    extra = [(t_, t_) for t_ in traced if t_.upper().startswith("BEGIN")]
                    if n == 1 and not mine:
                        mine = [(key, key)]
                    _record(conn, cur, extra, 0, None, site, False)
                    is_select = cur.description is not None
                    rows = None if is_select else max(cur.rowcount, 0)
                    if n == 1 and is_select:
                        _record(conn, cur, mine, dur, 0, site, True)
                    else:
                        _record(conn, cur, mine, dur, rows, site, False)
                except Exception:
                    pass

        def _script(cur, call, script, args, kwargs):
            conn = cur.connection
            _close_event(cur)
            _take_traced(conn)
            t = perf()
            try:
                return call(script, *args, **kwargs)
            finally:
                dur = perf() - t
                try:
                    traced = _take_traced(conn)
                    _record(conn, cur, [(x, x) for x in traced], dur, None, log.site_id(caller()), False)
                except Exception:
                    pass

        def _simple(conn, call):
            _take_traced(conn)
            t = perf()
            try:
                return call()
            finally:
                dur = perf() - t
                try:
                    traced = _take_traced(conn)
                    _record(conn, None, [(x, x) for x in traced], dur, None, log.site_id(caller()), False)
                except Exception:
                    pass

        def _fetched(cur, dur, rows):
            with open_lock:
                entry = open_events.get(id(cur))
                if entry is not None:
                    entry[0][2] += dur
                    entry[0][3] = (entry[0][3] or 0) + rows

    # -- psycopg (3) ------------------------------------------------------------------------------
    def patch_psycopg(mod):
        cursor_classes = [
            getattr(mod, n, None) for n in ("Cursor", "ClientCursor", "ServerCursor", "RawCursor")
        ]
        cursor_classes = [c for c in cursor_classes if c is not None]
        if not cursor_classes or getattr(mod.Cursor.execute, "_perfpack", False):
            return
        db_ids = weakref.WeakKeyDictionary()

        def db_of(conn):
            did = db_ids.get(conn)
            if did is None:
                try:
                    info = conn.info
                    desc = {"engine": "postgresql", "dbname": info.dbname, "port": info.port}
                except Exception:
                    desc = {"engine": "postgresql"}
                did = db_ids[conn] = log.db_id(desc)
            return did

        def literal(cur, query, params):
            """The statement as sent, with its parameters as literals (a client-side mogrify)."""
            try:
                if params is None:
                    return query if isinstance(query, str) else query.as_string(cur.connection)
                return mod.ClientCursor(cur.connection).mogrify(query, params)
            except Exception:
                return None

        def wrap_execute(cls):
            base = cls.__dict__.get("execute")
            if base is None:
                return

            def execute(self, query, params=None, *args, **kwargs):
                t = perf()
                try:
                    return base(self, query, params, *args, **kwargs)
                finally:
                    dur = perf() - t
                    try:
                        key = (
                            query
                            if isinstance(query, str)
                            else (
                                query.decode()
                                if isinstance(query, bytes)
                                else query.as_string(self.connection)
                            )
                        )
                        sid = log.by_text.get(key)
                        example = None if sid is not None else literal(self, query, params)
                        sid = log.shape_id(key, example or key)
                        rows = self.rowcount if self.rowcount is not None and self.rowcount >= 0 else None
                        log.event(sid, perf() - dur, dur, rows, db_of(self.connection), log.site_id(caller()))
                    except Exception:
                        pass

            execute._perfpack = True
            cls.execute = execute

        def wrap_executemany(cls):
            base = cls.__dict__.get("executemany")
            if base is None:
                return

            def executemany(self, query, params_seq, *args, **kwargs):
                try:
                    params_seq = list(params_seq)
                except TypeError:
                    return base(self, query, params_seq, *args, **kwargs)
                t = perf()
                try:
                    return base(self, query, params_seq, *args, **kwargs)
                finally:
                    dur = perf() - t
                    try:
                        key = (
                            query
                            if isinstance(query, str)
                            else (
                                query.decode()
                                if isinstance(query, bytes)
                                else query.as_string(self.connection)
                            )
                        )
                        example = literal(self, query, params_seq[0]) if params_seq else None
                        sid = log.shape_id(key, example or key)
                        n = max(len(params_seq), 1)
                        site = log.site_id(caller())
                        for i in range(n):
                            log.event(
                                sid,
                                perf() - dur + i * (dur // n),
                                dur // n,
                                None,
                                db_of(self.connection),
                                site,
                            )
                    except Exception:
                        pass

            cls.executemany = executemany

        for cls in cursor_classes:
            wrap_execute(cls)
            wrap_executemany(cls)

    # -- psycopg2 -----------------------------------------------------------------------------------
    def patch_psycopg2(mod):
        base_connect = mod.connect
        if getattr(base_connect, "_perfpack", False):
            return
        ext = sys.modules.get("psycopg2.extensions")
        if ext is None:
            return
        classes = {}

        def db_of(conn):
            did = getattr(conn, "_perfpack_db", None)
            if did is None:
                try:
                    desc = {"engine": "postgresql", "dbname": conn.info.dbname, "port": conn.info.port}
                except Exception:
                    desc = {"engine": "postgresql"}
                did = log.db_id(desc)
                try:
                    conn._perfpack_db = did
                except Exception:
                    pass
            return did

        def record(cur, query, dur, n):
            key = query if isinstance(query, str) else (
                query.decode() if isinstance(query, bytes) else query.as_string(cur))
            sent = cur.query.decode("utf-8", "replace") if isinstance(cur.query, bytes) else None
            sid = log.shape_id(key, sent or key)
            rows = cur.rowcount if n == 1 and cur.rowcount is not None and cur.rowcount >= 0 else None
            site = log.site_id(caller())
            for i in range(n):
                log.event(sid, perf() - dur + i * (dur // n), dur // n, rows, db_of(cur.connection), site)

        def traced_cursor(factory):
            cls = classes.get(("cur", factory))
            if cls is None:

                class TracedCursor(factory):
                    def execute(self, query, vars=None):
                        t = perf()
                        try:
                            return super().execute(query, vars)
                        finally:
                            try:
                                record(self, query, perf() - t, 1)
                            except Exception:
                                pass

                    def executemany(self, query, vars_list):
                        vars_list = list(vars_list)
                        t = perf()
                        try:
                            return super().executemany(query, vars_list)
                        finally:
                            try:
                                record(self, query, perf() - t, max(len(vars_list), 1))
                            except Exception:
                                pass

                cls = classes[("cur", factory)] = TracedCursor
            return cls

        def traced_connection(factory):
            cls = classes.get(("conn", factory))
            if cls is None:

                class TracedConnection(factory):
                    def cursor(self, *args, **kwargs):
                        chosen = kwargs.get("cursor_factory") or self.cursor_factory or ext.cursor
                        kwargs["cursor_factory"] = traced_cursor(chosen)
                        return super().cursor(*args, **kwargs)

                cls = classes[("conn", factory)] = TracedConnection
            return cls

        def connect(dsn=None, connection_factory=None, cursor_factory=None, **kwargs):
            try:
                factory = traced_connection(connection_factory or ext.connection)
            except Exception:
                return base_connect(dsn, connection_factory, cursor_factory, **kwargs)
            return base_connect(dsn, connection_factory=factory, cursor_factory=cursor_factory, **kwargs)

        connect._perfpack = True
        connect.__doc__ = base_connect.__doc__
        mod.connect = connect

    # -- patch each driver when the program imports it ---------------------------------------------
    patches = {"sqlite3": patch_sqlite3, "psycopg": patch_psycopg, "psycopg2": patch_psycopg2}

    class Finder:
        def find_spec(self, name, path=None, target=None):
            if name not in patches:
                return None
            sys.meta_path.remove(self)
            try:
                spec = importlib.util.find_spec(name)
            finally:
                sys.meta_path.insert(0, self)
            if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
                return spec
            loader = spec.loader
            exec_module = loader.exec_module

            class Patching:
                def __getattr__(self, attr):
                    return getattr(loader, attr)

                def create_module(self, spec_):
                    return loader.create_module(spec_)

                def exec_module(self, module):
                    exec_module(module)
                    try:
                        patches[name](module)
                    except Exception:
                        pass

            spec.loader = Patching()
            return spec

    for name, patch in patches.items():
        if name in sys.modules:
            try:
                patch(sys.modules[name])
            except Exception:
                pass
    sys.meta_path.insert(0, Finder())


def _chain():
    """Run the sitecustomize this one shadows (Debian's, a virtualenv's), as Python would have."""
    here = os.path.dirname(os.path.abspath(__file__))
    import importlib.machinery
    import importlib.util

    rest = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


try:
    _install()
except Exception:
    pass
try:
    _chain()
except Exception:
    pass
