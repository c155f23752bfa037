"""Human units for durations and sizes ("923 ms", "1.64 s", "412.0 MiB"): standard library only, no imports,
so `perfpack snapshot` (which must start in a bare interpreter) can share them. Sizes are binary and say so
(KiB, MiB, GiB: powers of 1024), as `perfpack profile --memory` prints them: "MB" would be read as 10^6
bytes, 4.9 % off what was measured."""

from __future__ import annotations


def format_seconds(value: float | None) -> str:
    """Three significant digits in the largest unit that keeps the number >= 1, never an exponent."""
    if value is None:
        return "—"
    for unit, factor in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(value) >= factor:
            scaled = value / factor
            return f"{scaled:.3g} {unit}" if abs(scaled) < 100 else f"{scaled:.0f} {unit}"
    return f"{value / 1e-9:.0f} ns"


def format_bytes(value: float | None) -> str:
    if value is None:
        return "—"
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if value >= factor:
            return f"{value / factor:.1f} {unit}"
    return f"{value:.0f} B"


def format_percent(ratio: float) -> str:
    """A ratio after/before as a signed change: 0.412 -> "-58.8%"; from 10x on, grouped and with the
    factor, which is how people read such a step: 12.5 -> "+1,150% (12.5x)", not "+1150.0%"."""
    pct = round((ratio - 1) * 100, 1)
    if ratio >= 10:
        factor = f"{ratio:.1f}" if ratio < 100 else f"{ratio:,.0f}"
        return f"{pct:+,.0f}% ({factor}x)"
    return f"{pct + 0.0:+.1f}%"  # + 0.0: -0.0 (a ratio of 0.9999) prints as +0.0
