"""ORM reads compiled to SQL once, then run with a new value: for the hottest read, the GET
endpoint's visit with its participants, building the same SQL again cost more than the query.

The query is still written with the ORM; its compiled SQL, and the converters that turn the
database's values into Python ones (dates, JSON), are kept per thread and connection.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet


@dataclass(frozen=True)
class _Compiled:
    database: Any  # the connection it was compiled for (its SQL dialect, its converters)
    sql: str
    params: tuple
    position: int  # of the placeholder in `params`
    compiler: Any
    converters: dict


class PreparedRead:
    """`build(placeholder)` is a `values_list` query with `placeholder` as one of its parameters;
    `rows(value)` runs it with `value` in that place, as lists of converted column values."""

    def __init__(self, build: Callable[[str], QuerySet], *, placeholder: str):
        self._build = build
        self._placeholder = placeholder
        self._compiled = threading.local()

    def _compile(self, database) -> _Compiled:
        compiler = self._build(self._placeholder).query.get_compiler(connection=database)
        sql, params = compiler.as_sql()
        columns = [select[0] for select in compiler.select[: compiler.col_count]]
        return _Compiled(
            database=database,
            sql=sql,
            params=tuple(params),
            position=params.index(self._placeholder),
            compiler=compiler,
            converters=compiler.get_converters(columns),
        )

    def rows(self, value: Any) -> list[list]:
        database = connections[DEFAULT_DB_ALIAS]
        compiled = getattr(self._compiled, "query", None)
        if compiled is None or compiled.database is not database:
            compiled = self._compiled.query = self._compile(database)
        params = list(compiled.params)
        params[compiled.position] = value
        with database.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if not compiled.converters:
            return [list(row) for row in rows]
        return list(compiled.compiler.apply_converters(rows, compiled.converters))
