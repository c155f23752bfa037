"""`python -m perfpack.snapshot`: the snapshot with the standard library only (always exits 0)."""

from perfpack.snapshot.main import main

if __name__ == "__main__":
    raise SystemExit(main())
