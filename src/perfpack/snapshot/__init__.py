"""`perfpack snapshot`: a bounded, never-failing baseline of the host and project for /optimize."""

from perfpack.snapshot.collect import Snapshot, take_snapshot

__all__ = ["Snapshot", "take_snapshot"]
