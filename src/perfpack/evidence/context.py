"""Context beyond a figure's clause, for the claims scanner (perfpack.evidence.claims): whether a table
column, a list's lead-in line or a section heading makes its figures targets; whether a figure is read
where perfpack prints qualifying figures (intervals, spreads, noise, the load generator's own). Imported
only for messages that have such words, so the stop hook's import path stays small for the others."""

from perfpack.evidence.claims import _CLAUSE_MEMO, _QUALIFIER_WORDS, _cut

# Words of a table header, a list's lead-in or a heading that make its figures targets or estimates.
_TARGET_LABELS = {"target", "targets", "goal", "goals", "budget", "budgets", "slo", "slos", "sla", "slas",
                  "threshold", "thresholds", "limit", "limits", "estimate", "estimates", "estimated",
                  "expected", "expectation", "expectations", "projected", "projection", "hypotheses",
                  "hypothesis", "ideas", "requirement", "requirements", "objective", "objectives", "kpi",
                  "kpis", "plan", "wishlist"}


def hedged_context(text: str, start: int) -> bool:
    """A figure whose table column or list is about targets, budgets or estimates: under a header cell
    "target" / "budget (ms)" / "SLO", or in a list item whose lead-in line ("Targets for next week:") or
    section heading ("## Budgets") names them. A lead-in or heading that also says "measured", "result",
    "actual" or "vs" is about measurements."""
    line_start = text.rfind("\n", 0, start) + 1
    stripped = text[line_start:start].lstrip()
    if stripped.startswith("|"):
        from perfpack.evidence.tables import table_header

        header = table_header(text, start)
        return header is not None and _names_targets(header)
    if not stripped.startswith(("- ", "* ", "+ ")) and not (stripped[:1].isdigit() and ". " in stripped[:4]):
        return False
    key = (id(text), -line_start - 1)  # a list's context, once per line (negative: not a clause key)
    found = _CLAUSE_MEMO.get(key)
    if found is None:
        found = _CLAUSE_MEMO[key] = int(_list_names_targets(text, line_start))
    return bool(found)


def _list_names_targets(text: str, line_start: int) -> bool:
    cursor = line_start
    for _ in range(12):  # up to the list's lead-in line or the section's heading
        if cursor <= 0:
            return False
        previous = text.rfind("\n", 0, cursor - 1) + 1
        line = text[previous:cursor - 1].strip()
        cursor = previous
        if not line or line.startswith(("- ", "* ", "+ ")) or (line[:1].isdigit() and ". " in line[:4]):
            continue
        if line.startswith("#") or line.endswith(":"):
            return _names_targets(line)
        if not line.startswith((" ", "\t")):
            return False
    return False


def _names_targets(label: str) -> bool:
    words = {word.strip(".:#*_()[]") for word in label.lower().replace("/", " ").split()}
    return bool(words & _TARGET_LABELS) and not words & {"measured", "result", "results", "actual", "vs",
                                                           "observed", "achieved", "now", "after", "before",
                                                           # "Threshold run on c328bc6:": a run, with results
                                                           "run", "runs"}


def qualifying(text: str, clause_start: int, start: int, end: int) -> bool:
    """A figure read where perfpack prints its qualifying figures: inside a bracketed interval ("[355 ms –
    585 ms]"), after "±", or in a clause about an interval, the noise or the load generator ("the
    generator's lag p99 2 ms", "95 % CI"). Only such a claim may match a ledger's SECONDARY figures."""
    line = text[text.rfind("\n", 0, start) + 1:start]
    if line.count("[") > line.count("]") or line.rstrip(" ~≈").endswith(("±", "+/-")):
        return True
    clause = (text[clause_start:start] + " " + _cut(text[end:end + 16], ";.\n")).lower()  # "3 % of one core"
    return any(word in clause for word in _QUALIFIER_WORDS)
