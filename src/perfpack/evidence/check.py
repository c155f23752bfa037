"""`perfpack evidence check` as a plain function: the claims of a message, each matched against the
project's ledger, and for each unverified one the perfpack command that would measure it."""

from perfpack.evidence.claims import MAX_CLAIMS, Claim, extract_claims
from perfpack.evidence.match import figures_of, match_all

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# dimension -> the command that would measure such a figure
MEASURE_WITH = {
    "time": "perfpack bench --name NAME -- CMD (or perfpack load URL for a server's latency)",
    "rate": "perfpack load URL --rate RPS --duration 30s",
    "size": "perfpack bench --name NAME -- CMD (peak RSS) or perfpack profile --memory -- CMD",
    "ratio": "perfpack compare --name NAME -- OLD_CMD --vs NEW_CMD (or bench against a saved baseline)",
    "percent": "perfpack compare --name NAME -- OLD_CMD --vs NEW_CMD (or bench against a saved baseline)",
}


class Checked:
    """The outcome: every claim with the ledger record that backs it (None: unverified)."""

    __slots__ = ("claims", "matches")

    def __init__(self, claims: list[Claim], matches: list[str | None]) -> None:
        self.claims = claims
        self.matches = matches

    @property
    def truncated(self) -> bool:
        """The message holds more figures than are read (MAX_CLAIMS): the rest are not checked."""
        return len(self.claims) >= MAX_CLAIMS

    @property
    def unverified(self) -> list[Claim]:
        return [claim for claim, found in zip(self.claims, self.matches, strict=True) if found is None]

    def as_dict(self) -> "dict[str, Any]":
        return {"claims": [{**claim.as_dict(), "matched": found,
                            **({"measure_with": MEASURE_WITH[claim.dimension]} if found is None else {})}
                           for claim, found in zip(self.claims, self.matches, strict=True)],
                "unverified": len(self.unverified), "truncated": self.truncated}


def check_message(message: str, records: "list[dict[str, Any]]") -> Checked:
    claims = extract_claims(message)
    if not claims:
        return Checked([], [])
    return Checked(claims, match_all(claims, figures_of(records, claims)))


def summary(checked: Checked, *, limit: int = 2048) -> str:
    """The human/agent summary: verified count, then each unverified figure and how to measure it."""
    from perfpack.terminal import one_line

    total, missing = len(checked.claims), checked.unverified
    if not total:
        return "no quantitative performance claims found"
    lines = [f"{total - len(missing)} of {total} figure(s) backed by perfpack's ledger"]
    if checked.truncated:
        lines.append(f"- not checked: every figure after the first {MAX_CLAIMS} (the message has more); "
                     "report fewer figures")
    for claim in missing:
        lines.append(f"- unverified: {one_line(claim.text, limit=40)}"
                     f"{' (' + claim.metric + ')' if claim.metric else ''} — measure it: "
                     f"{MEASURE_WITH[claim.dimension]}, or withdraw it")
    text = "\n".join(lines)
    return text if len(text) <= limit else text[: limit - 2] + " …"
