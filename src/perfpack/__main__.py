"""`python -m perfpack` = the `perfpack` command."""

from perfpack.cli import run

if __name__ == "__main__":
    run()
