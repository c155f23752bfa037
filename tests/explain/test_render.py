"""What explain prints about a suggestion: indexes counted as indexes, a lower bound said as one."""

from __future__ import annotations

from perfpack.explain.core import Result
from perfpack.explain.model import Scan, Statement, Suggestion
from perfpack.explain.render import findings, summary


def _result(capped: bool) -> Result:
    suggestion = Suggestion(ddl=["CREATE INDEX idx_orders_customer_id ON orders (customer_id)",
                                 "CREATE INDEX idx_items_order_id ON order_items (order_id)"],
                            tables=["orders", "order_items"], checked="measured", before_ms=982.0,
                            after_ms=1.3, speedup=755.4, before_capped=capped)
    scan = Scan(alias="i", how="seq scan", table="order_items", rows=240_000)
    statement = Statement(sql="SELECT ...", example="SELECT ...", suggestion=suggestion, full_scans=[scan],
                          source="--sql", line=1)
    return Result(target="db", engine="postgresql", statements=[statement], measured=True)


def test_two_indexes_for_one_statement_are_counted_as_two():
    text = summary(_result(False), None, 1, 1)
    assert "2 index(es) to add for 1 statement shape(s)" in text, text


def test_a_speedup_over_a_capped_statement_is_said_to_be_a_lower_bound():
    assert "(755x, measured)" in findings(_result(False))[0].message
    assert "982 ms+ -> 1.3 ms (at least 755x, measured)" in findings(_result(True))[0].message


def test_a_small_speedup_keeps_two_digits_and_evidence_list_keeps_the_lower_bound():
    from perfpack.explain.render import _times
    from perfpack.ledger import figure, headline

    assert [_times(2.69), _times(26.4), _times(5455.2)] == ["2.7x", "26x", "5,455x"]  # "3x" overstated 2.69
    record = {"kind": "explain", "figures": [
        figure("median", 1000.0, "ms", side="before", lower_bound=True),
        figure("median", 9.38, "ms", side="after"),
        figure("speedup", 107.0, "x", lower_bound=True)]}
    assert headline(record) == "median=at least 1 s -> 9.38 ms | speedup=at least 107x", headline(record)
