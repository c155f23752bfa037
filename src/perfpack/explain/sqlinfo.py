"""What a statement asks of each table it reads, and the indexes that could answer it.

The statement is parsed (sqlglot, the engine's dialect); for every table in every SELECT scope
(subqueries, CTEs, correlated subqueries, the rows an UPDATE or DELETE finds) the conjuncts of its
WHERE and JOIN ... ON are sorted into what a B-tree can search: equality (=, IN, IS NULL), equality
with another table's column (a join), a range (<, >, BETWEEN), a prefix (LIKE 'abc%', GLOB 'abc*'),
and the ORDER BY it could return rows in. A conjunct that wraps the column in an expression
(lower(x) = ?, x + 1 > ?, x LIKE '%abc', x <> ?) cannot use a plain index and is only noted.

Candidate indexes follow the usual rule: equality columns first, then the sort or one range.
Which candidate the engine really uses is decided by its planner (what-if), not here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TYPE_CHECKING = False
if TYPE_CHECKING:
    pass

MAX_INDEX_COLUMNS = 5


@dataclass(frozen=True)
class IndexColumn:
    name: str
    modifier: str = ""  # "DESC", "COLLATE NOCASE", "text_pattern_ops"

    def sql(self, quote: Callable[[str], str]) -> str:
        return quote(self.name) + (" " + self.modifier if self.modifier else "")


@dataclass(frozen=True)
class Candidate:
    table: str  # as written in the statement (may carry a schema: "public.orders")
    columns: tuple[IndexColumn, ...]

    def key(self) -> tuple[str, tuple[IndexColumn, ...]]:
        return (self.table.lower(), self.columns)

    def label(self) -> str:
        cols = ", ".join(c.name + (" " + c.modifier if c.modifier else "") for c in self.columns)
        return f"{self.table}({cols})"


@dataclass
class TableUse:
    """One table source in one scope, and what the statement asks of it."""

    alias: str
    table: str
    schema: str | None = None
    eq: list[str] = field(default_factory=list)
    join: list[str] = field(default_factory=list)
    range: list[str] = field(default_factory=list)
    prefix: list[tuple[str, str]] = field(default_factory=list)  # (column, "like" | "glob")
    order: list[tuple[str, bool]] = field(default_factory=list)  # (column, descending)
    limit: bool = False
    local: list[str] = field(default_factory=list)  # conjuncts on this table alone, as SQL (selectivity)
    opaque: list[str] = field(default_factory=list)  # conjuncts no plain index can serve

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else self.table

    def searchable(self) -> bool:
        return bool(self.eq or self.join or self.range or self.prefix or (self.order and self.limit))


@dataclass
class StatementInfo:
    kind: str  # "select", "update", "delete", "insert", "other"
    uses: list[TableUse]
    timing_sql: str | None  # a read-only SELECT that does the statement's searching (None: not timeable)
    tables: set[str]


class SqlError(ValueError):
    """The statement does not parse."""


def _dialect(engine: str) -> str:
    return "postgres" if engine == "postgresql" else "sqlite"


def analyse(sql: str, engine: str, columns_of: Callable[[str], set[str]]) -> StatementInfo:
    """Parse `sql` and describe what each table source is asked for. Raises SqlError."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    dialect = _dialect(engine)
    try:
        trees = [t for t in sqlglot.parse(sql, read=dialect) if t is not None]
    except (ParseError, TokenError) as err:
        raise SqlError(str(err).splitlines()[0]) from err
    if len(trees) != 1:
        raise SqlError(f"expected one statement, found {len(trees)}")
    tree = trees[0]
    if dialect == "postgres":  # the server folds bare names to lower case; so must we
        from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

        tree = normalize_identifiers(tree, dialect=dialect)
    kind, query, timing = _as_query(tree, dialect)
    uses: list[TableUse] = []
    tables: set[str] = set()
    if query is not None:
        from sqlglot.optimizer.scope import traverse_scope

        try:
            scopes = traverse_scope(query)
        except Exception:
            scopes = []
        for scope in scopes:
            uses += _scope_uses(scope, columns_of, exp, dialect)
        for table in query.find_all(exp.Table):
            if table.name:
                tables.add(table.name.lower())
    return StatementInfo(kind=kind, uses=uses, timing_sql=timing, tables=tables)


def _as_query(tree: Any, dialect: str) -> tuple[str, Any, str | None]:
    """(kind, the SELECT to analyse, SQL to time): an UPDATE/DELETE is analysed and timed as the
    SELECT that finds its rows, so timing never changes data."""
    from sqlglot import exp

    if isinstance(tree, (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.With, exp.Subquery)):
        return "select", tree, tree.sql(dialect=dialect)
    if isinstance(tree, (exp.Update, exp.Delete)):
        table = tree.this
        select = exp.select("*").from_(table.copy())
        where = tree.args.get("where")
        if where is not None:
            select = select.where(where.this.copy())
        for join in tree.args.get("joins") or []:
            select = select.join(join.copy())
        from_ = tree.args.get("from_") or tree.args.get("from")
        if from_ is not None:  # UPDATE ... FROM other (PostgreSQL): the other table joins in
            select = select.join(from_.this.copy())
        kind = "update" if isinstance(tree, exp.Update) else "delete"
        return kind, select, select.sql(dialect=dialect)
    if isinstance(tree, exp.Insert):
        inner = tree.expression
        if isinstance(inner, (exp.Select, exp.Union)):
            return "insert", inner, inner.sql(dialect=dialect)
        return "insert", None, None
    return "other", None, None


def _scope_uses(scope: Any, columns_of: Callable[[str], set[str]], exp: Any, dialect: str) -> list[TableUse]:
    node = scope.expression
    if not isinstance(node, exp.Select):
        return []
    sources: dict[str, TableUse] = {}
    for alias, source in scope.sources.items():
        if isinstance(source, exp.Table) and source.name and alias in scope.selected_sources:
            sources[alias.lower()] = TableUse(alias=alias, table=source.name, schema=source.db or None)
    if not sources:
        return []
    cols = {a: {c.lower() for c in columns_of(u.qualified)} for a, u in sources.items()}

    def owner(column: Any) -> str | None:
        """The alias in this scope a column belongs to; None for an outer (correlated) or unknown one."""
        qualifier = (column.table or "").lower()
        name = column.name.lower()
        if qualifier:
            if qualifier in sources:
                return qualifier
            by_table = [a for a, u in sources.items() if u.table.lower() == qualifier]
            return by_table[0] if len(by_table) == 1 else None
        having = [a for a in sources if name in cols[a]]
        if len(having) == 1:
            return having[0]
        if not having and len(sources) == 1 and not any(cols.values()):
            return next(iter(sources))
        return None

    conds: list[Any] = []
    where = node.args.get("where")
    if where is not None:
        conds += _conjuncts(where.this, exp)
    for join in node.args.get("joins") or []:
        on = join.args.get("on")
        if on is not None:
            conds += _conjuncts(on, exp)
        for name in join.args.get("using") or []:  # JOIN ... USING (col): equality on both sides
            for alias in sources:
                if name.name.lower() in cols[alias]:
                    sources[alias].join.append(name.name)
    for cond in conds:
        _classify(cond, sources, owner, exp, dialect)
    _order(node, sources, owner, exp)
    return list(sources.values())


def _conjuncts(node: Any, exp: Any) -> list[Any]:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.And):
        return _conjuncts(node.this, exp) + _conjuncts(node.expression, exp)
    return [node]


def _columns_in(node: Any, exp: Any) -> list[Any]:
    """Columns of `node` that belong to this scope (not inside a nested subquery)."""
    found = []
    for col in node.find_all(exp.Column):
        if col is node:
            found.append(col)
            continue
        parent = col.parent
        nested = False
        while parent is not None and parent is not node:
            if isinstance(parent, (exp.Select, exp.Subquery)):
                nested = True
                break
            parent = parent.parent
        if not nested:
            found.append(col)
    return found


def _plain_column(node: Any, exp: Any) -> Any:
    while isinstance(node, exp.Paren):
        node = node.this
    return node if isinstance(node, exp.Column) else None


def _classify(
    cond: Any, sources: dict[str, TableUse], owner: Callable[[Any], str | None], exp: Any, dialect: str
) -> None:
    columns = _columns_in(cond, exp)
    mine = {owner(c) for c in columns} - {None}
    if not mine:
        return  # constants or outer columns only
    text = cond.sql(dialect=dialect)

    def side(column_node: Any, other: Any) -> tuple[str | None, str, set[str | None]]:
        col = _plain_column(column_node, exp)
        if col is None:
            return None, "", set()
        return owner(col), col.name, {owner(c) for c in _columns_in(other, exp)} - {None}

    # column = expr, expr = column
    if isinstance(cond, (exp.EQ, exp.NullSafeEQ)):
        done = False
        for left, right in ((cond.this, cond.expression), (cond.expression, cond.this)):
            alias, name, others = side(left, right)
            if alias is None:
                continue
            if alias in others:
                continue  # x = x + 1 on the same table
            use = sources[alias]
            if others:
                use.join.append(name)
            else:
                use.eq.append(name)
                use.local.append(text)
            done = True
        if done:
            return
    elif isinstance(cond, exp.In):
        alias, name, others = side(cond.this, cond)
        if alias is not None and not (others - {alias}) and not cond.args.get("unnest"):
            use = sources[alias]
            use.eq.append(name)
            if cond.args.get("query") is None:
                use.local.append(text)
            return
    elif isinstance(cond, exp.Is) and isinstance(cond.expression, exp.Null):
        alias, name, _ = side(cond.this, cond.expression)
        if alias is not None:
            sources[alias].eq.append(name)
            sources[alias].local.append(text)
            return
    elif isinstance(cond, (exp.GT, exp.GTE, exp.LT, exp.LTE)):
        for left, right in ((cond.this, cond.expression), (cond.expression, cond.this)):
            alias, name, others = side(left, right)
            if alias is not None and alias not in others:
                use = sources[alias]
                use.range.append(name)
                if not others:
                    use.local.append(text)
                return
    elif isinstance(cond, exp.Between):
        alias, name, others = side(
            cond.this, exp.Tuple(expressions=[cond.args["low"].copy(), cond.args["high"].copy()])
        )
        if alias is not None and alias not in others:
            sources[alias].range.append(name)
            if not others:
                sources[alias].local.append(text)
            return
    elif isinstance(cond, (exp.Like, exp.Glob)):
        alias, name, _ = side(cond.this, cond.expression)
        pattern = cond.expression
        if alias is not None and isinstance(pattern, exp.Literal) and pattern.is_string:
            wild = "%_" if isinstance(cond, exp.Like) else "*?["
            value = pattern.this
            if value and value[0] not in wild:
                sources[alias].prefix.append((name, "like" if isinstance(cond, exp.Like) else "glob"))
                sources[alias].local.append(text)
                return
    elif isinstance(cond, exp.Or):
        # a = 1 OR a = 2 (one column, constants) is an IN list
        parts = _disjuncts(cond, exp)
        names: set[tuple[str, str, str]] = set()
        for part in parts:
            if not isinstance(part, exp.EQ):
                names = set()
                break
            alias, name, others = side(part.this, part.expression)
            if alias is None or others or name is None:
                names = set()
                break
            names.add((alias, name.lower(), name))
        if len({(a, n) for a, n, _ in names}) == 1:
            alias, _, name = next(iter(names))
            sources[alias].eq.append(name)
            sources[alias].local.append(text)
            return
    for owner_alias in mine:
        if owner_alias is not None:
            sources[owner_alias].opaque.append(text)


def _disjuncts(node: Any, exp: Any) -> list[Any]:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Or):
        return _disjuncts(node.this, exp) + _disjuncts(node.expression, exp)
    return [node]


def _order(node: Any, sources: dict[str, TableUse], owner: Callable[[Any], str | None], exp: Any) -> None:
    order = node.args.get("order")
    limit = node.args.get("limit") is not None
    if order is None:
        if limit:
            for use in sources.values():
                use.limit = True
        return
    keys = []
    for item in order.expressions:
        col = _plain_column(item.this, exp)
        if col is None:
            return
        alias = owner(col)
        if alias is None:
            return
        keys.append((alias, col.name, bool(item.args.get("desc"))))
    aliases = {k[0] for k in keys}
    if len(aliases) != 1:
        return
    use = sources[aliases.pop()]
    use.order = [(name, desc) for _, name, desc in keys]
    use.limit = limit


def candidates(use: TableUse, engine: str, skip: Callable[[str], bool] = lambda _: False) -> list[Candidate]:
    """Indexes that could turn a full read of `use.table` into a search, best guesses first.

    `skip(column)` drops columns that are searchable already (SQLite's INTEGER PRIMARY KEY).
    """

    def uniq(names: list[str]) -> list[str]:
        seen: set[str] = set()
        out = []
        for name in names:
            if name.lower() not in seen and not skip(name):
                seen.add(name.lower())
                out.append(name)
        return out

    eq = uniq(use.eq)
    join = [c for c in uniq(use.join) if c.lower() not in {e.lower() for e in eq}]
    both = eq + join
    ranges = [c for c in uniq(use.range) if c.lower() not in {e.lower() for e in both}]
    shapes: list[list[IndexColumn]] = []

    def plain(names: list[str]) -> list[IndexColumn]:
        return [IndexColumn(n) for n in names]

    for col in ranges[:2]:
        shapes.append(plain(both) + [IndexColumn(col)])
    for col, how in use.prefix:
        if skip(col) or col.lower() in {e.lower() for e in both}:
            continue
        if engine == "postgresql":
            shapes.append(plain(both) + [IndexColumn(col)])
            shapes.append(plain(both) + [IndexColumn(col, "text_pattern_ops")])
        elif how == "like":
            shapes.append(plain(both) + [IndexColumn(col, "COLLATE NOCASE")])
        else:
            shapes.append(plain(both) + [IndexColumn(col)])
    if use.order:
        order = [(n, d) for n, d in use.order if n.lower() not in {e.lower() for e in eq}]
        if order and not any(skip(n) for n, _ in order[:1]):
            mixed = len({d for _, d in order}) > 1
            cols = [IndexColumn(n, "DESC" if (mixed and d) else "") for n, d in order]
            if eq or use.limit:
                shapes.append(plain(eq) + cols)
    if both:
        shapes.append(plain(both))
    if eq and join:
        shapes.append(plain(eq))
        shapes.append(plain(join))
    out: list[Candidate] = []
    seen: set[tuple[IndexColumn, ...]] = set()
    for cols in shapes:
        key = tuple(cols[:MAX_INDEX_COLUMNS])
        if key and key not in seen:
            seen.add(key)
            out.append(Candidate(use.qualified, key))
    return out
