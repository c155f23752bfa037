"""Markdown tables in a final message: the unit and the statistic a bare cell takes from its column's
header or its row's label. Imported by perfpack.evidence.claims only for a message that holds a table, so a
report without one (most of them) never loads this code in the stop hook."""

from perfpack.evidence.claims import _METRICS, _UNITS, _WORD_BREAKS, AT_PEAK, _fits


def table_unit(text: str, start: int, end: int) -> str | None:
    """The unit of a bare number that fills a Markdown table cell, from its column's header or its row's
    first cell: "(ms)", "[MiB]", "p95 ms" ("| p95 (ms) |" above "| 126 |"; "| p95 (ms) | 126 | 39.7 |")."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start:len(text) if line_end < 0 else line_end]
    if not line.lstrip().startswith("|"):
        return None
    left, right = text.rfind("|", line_start, start), text.find("|", end)
    if left < 0 or right < 0 or (line_end >= 0 and right > line_end) or \
            text[left + 1:start].strip(" *_~≈+-−") or text[end:right].strip(" *_"):
        return None  # not alone in its cell
    label = line.strip().strip("|").split("|")[0]
    if label.strip().lstrip("*_~≈+-−")[:1].isdigit():
        label = ""  # "| 150 req/s | ... | 0 |": a row that starts with a figure has no label
    cells = [table_header(text, start) or "", label]
    for cell in cells:
        cell = cell.strip().lower()
        for opening, closing in (("(", ")"), ("[", "]")):
            inside = cell[cell.find(opening) + 1:cell.find(closing)].strip() if opening in cell else ""
            if inside in _UNITS:
                return inside
        words = cell.replace("*", " ").split()
        if len(words) >= 2 and words[-1] in _UNITS and len(words[-1]) >= 2 and words[-1] not in ("min", "x") \
                and not words[-2].replace(",", "").replace(".", "").isdigit():
            return words[-1]  # "| p95 ms |", not "| after, 10 req/s |": that unit is the label's own figure's
    return None


def table_header(text: str, start: int) -> str | None:
    """In a Markdown table row, the header cell of the column holding `start`."""
    line_start = text.rfind("\n", 0, start) + 1
    if not text[line_start:start].lstrip().startswith("|"):
        return None
    column = text[line_start:start].count("|") - 1
    header = None
    cursor = line_start
    while cursor > 0:  # walk up while the previous lines are rows of the same table
        previous = text.rfind("\n", 0, cursor - 1) + 1
        row = text[previous:cursor - 1].strip()
        if not row.startswith("|"):
            break
        if not row.replace("|", "").replace("-", "").replace(":", "").strip():
            header = text[text.rfind("\n", 0, previous - 1) + 1:previous - 1].strip()
            break
        cursor = previous
    if not header:
        return None
    cells = header.strip("|").split("|")
    if column >= len(cells):
        return None
    return cells[column]


def table_metric(text: str, start: int, dimension: str) -> str | None:
    """In a Markdown table row, the statistic its column header names ("| p95 |" above "| 40 ms |")."""
    cell = table_header(text, start)
    if cell is None:
        return None
    # not _words: its memo is keyed by the string's id, and a cell is a temporary string whose id a later
    # one may reuse
    words = cell.lower().translate(_WORD_BREAKS).split()
    for position, word in enumerate(words):
        word = word.strip(".")
        if word == "peak" and "at" in words[max(0, position - 2):position]:
            if dimension == "size":
                return AT_PEAK  # "| live at peak |": what was live then, as in prose
            continue
        if word in _METRICS and _fits(_METRICS[word], dimension):
            return _METRICS[word]
    return None
