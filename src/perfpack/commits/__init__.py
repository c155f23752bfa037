"""Atomic-commit checks: size, one concern, sign-off and Assisted-By trailers, over a range or a message."""
