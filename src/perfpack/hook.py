"""Claude Code runs this by path for every hook event: `python -S hook.py EVENT [ARGS]` (perfpack.dispatch).
Kept tiny on purpose: a script is compiled at every start, perfpack.dispatch is read from its .pyc."""

if __name__ == "__main__":
    import sys

    # Run by path, this file's folder (src/perfpack) is sys.path[0]; its modules would shadow the standard
    # library's. Put the folder that holds the package there instead: without `site` (-S) it is also how the
    # package is found, installed or not.
    here = sys.path[0].rstrip("/\\") if sys.path else ""
    cut = max(here.rfind("/"), here.rfind("\\"))
    if here[cut + 1:] == "perfpack":
        sys.path[0] = here[:cut] or "/"
    try:
        from perfpack.dispatch import run
    except BaseException:  # fail open: a broken install never blocks a prompt
        raise SystemExit(0) from None
    run()
