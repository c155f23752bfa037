"""`python -m perfpack` = the `perfpack` command."""

from perfpack.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
