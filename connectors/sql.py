"""One SQL statement over SQLAlchemy, for the `db` provider: PostgreSQL (asyncpg) or a
SQLite file (aiosqlite).

Each call opens its own connection and runs one statement in one transaction:

- Read-only unless `write`: PostgreSQL runs `SET TRANSACTION READ ONLY` first; SQLite opens
  the file with `mode=ro` and `PRAGMA query_only = ON`. A statement that writes then fails
  with WriteRefusedError. With `write`, the transaction commits when the statement succeeds.
- Values only travel as bind parameters (`:name` in the query, `params` by name); the
  query text is never formatted. Both drivers refuse more than one statement per call.
- `timeout_seconds` also bounds the statement in the database (PostgreSQL
  `statement_timeout`, an SQLite progress handler), so a timed-out query stops there too.
- Rows come back as mappings column → value, with values JSON can carry (see `_jsonable`);
  at most `max_rows` of them, `truncated` saying whether there were more.

Errors name the server as host:port/database (or the SQLite file) and quote only the first
line of the database's message: never the password, never a URL.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as time_of_day
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import quote

import aiosqlite
import asyncpg
from sqlalchemy import URL, Connection, Dialect, TextClause, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from connectors.errors import ConnectorError, excerpt

DEFAULT_POSTGRES_PORT = 5432
MAX_ROWS_LIMIT = 10_000
# Past the statement's own timeout, how long the database may take to report it before
# the call gives up on the connection.
TIMEOUT_GRACE_SECONDS = 2.0
SQLITE_PROGRESS_STEPS = 1000  # virtual machine steps between two looks at the clock
_READ_ONLY_SQLSTATE = "25006"
_QUERY_CANCELED_SQLSTATE = "57014"
_ARGUMENT_NUMBER = re.compile(r"query argument \$(\d+)")
# SQLAlchemy does not wrap every driver error (asyncpg's server-side cursor raises its own).
_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, sqlite3.Error)


class DbConnectorError(ConnectorError):
    """A `db` call failed; each subclass says whether a retry may help."""

    retryable_kind: ClassVar[bool] = False

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=self.retryable_kind)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.message,))


class DatabaseUnreachableError(DbConnectorError):
    """No connection to the server (refused, timed out, unknown host, lost)."""

    retryable_kind = True


class DatabaseLoginError(DbConnectorError):
    """The server answered but refused the login, the database or the SQLite file."""


class SqlError(DbConnectorError):
    """The statement or its parameters were refused."""


class WriteRefusedError(SqlError):
    """A statement that writes ran without `write: true`."""


class QueryTimeoutError(DbConnectorError):
    """The statement ran past its timeout and was stopped."""


@dataclass(frozen=True)
class DbTarget:
    """Where to connect: PostgreSQL at host:port, or (no host) the SQLite file `database`."""

    database: str
    host: str | None = None
    port: int = DEFAULT_POSTGRES_PORT
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    connect_timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.database:
            raise DatabaseLoginError("a db connection needs a database (or a SQLite file)")
        if self.is_sqlite and not self.database.startswith("/"):
            raise DatabaseLoginError(f"SQLite file {self.database} is not an absolute path")
        if not self.is_sqlite and not self.username:
            raise DatabaseLoginError(f"PostgreSQL at {self.address} needs a username")
        if self.connect_timeout <= 0:
            raise DatabaseLoginError("connect_timeout must be > 0")

    @property
    def is_sqlite(self) -> bool:
        return self.host is None

    @property
    def address(self) -> str:
        """For messages: host:port/database, or the SQLite file."""
        if self.host is None:
            return f"SQLite file {self.database}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}/{self.database}"


@dataclass(frozen=True)
class QueryRequest:
    query: str
    params: Mapping[str, Any] = field(default_factory=dict)
    write: bool = False
    max_rows: int = 100
    timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        if not self.query.strip():
            raise SqlError("the query is empty")
        if not 1 <= self.max_rows <= MAX_ROWS_LIMIT:
            raise SqlError(f"max_rows must be 1 to {MAX_ROWS_LIMIT}, got {self.max_rows}")
        if self.timeout_seconds <= 0:
            raise SqlError(f"timeout must be > 0 seconds, got {self.timeout_seconds:g}")


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[dict[str, Any]]  # at most max_rows, column name -> value
    row_count: int  # rows returned, or rows changed by a statement that returns none
    truncated: bool  # the statement returned more than max_rows rows

    def as_dict(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "rows": self.rows,
            "row_count": self.row_count,
            "truncated": self.truncated,
        }


@dataclass(frozen=True)
class DatabaseCheck:
    """How far a test connection got: the server answered, the login was accepted."""

    reachable: bool
    authenticated: bool
    error: str | None


async def run_query(target: DbTarget, request: QueryRequest) -> QueryResult:
    """Run one statement; raise a DbConnectorError saying what to do when it fails."""
    statement = _statement(request)
    engine = _engine(target, request)
    try:
        async with asyncio.timeout(request.timeout_seconds + TIMEOUT_GRACE_SECONDS):
            connection = await _connect(engine, target)
            try:
                return await _run(connection, target, statement, request)
            finally:
                await connection.close()
    except TimeoutError:
        raise _timeout(target, request) from None
    finally:
        await engine.dispose()


async def check_database(target: DbTarget) -> DatabaseCheck:
    """Log in and run `SELECT 1` read-only; a failure is an answer, not an error."""
    try:
        await run_query(target, QueryRequest("SELECT 1", timeout_seconds=target.connect_timeout))
    except DatabaseUnreachableError as err:
        return DatabaseCheck(False, False, err.message)
    except DatabaseLoginError as err:
        return DatabaseCheck(not target.is_sqlite, False, err.message)
    except DbConnectorError as err:
        return DatabaseCheck(True, True, err.message)
    return DatabaseCheck(True, True, None)


# --- statement and parameters ---------------------------------------------------------


def _statement(request: QueryRequest) -> TextClause:
    """The query as a text clause, once its bind parameters match `params` exactly."""
    statement = text(request.query)
    used = set(statement.compile().params)
    given = set(request.params)
    problems = [
        f"the query uses :{name} but params has no '{name}' (give it null for NULL; "
        f"a colon that is not a parameter is written \\:{name})"
        for name in sorted(used - given)
    ]
    problems += [
        f"params has '{name}', which the query does not use (write it :{name} in the query)"
        for name in sorted(given - used)
    ]
    if problems:
        raise SqlError("; ".join(problems))
    return statement


def _argument_names(statement: TextClause, dialect: Dialect) -> list[str]:
    """Bind names in the order the driver numbers them ($1, $2, ...)."""
    compiled = statement.compile(dialect=dialect)
    return list(getattr(compiled, "positiontup", None) or [])


# --- connecting -----------------------------------------------------------------------


def _engine(target: DbTarget, request: QueryRequest) -> AsyncEngine:
    if target.is_sqlite:
        return create_async_engine(
            "sqlite+aiosqlite://",
            async_creator=_sqlite_connector(target, request),
            poolclass=NullPool,
            hide_parameters=True,
        )
    url = URL.create(
        "postgresql+asyncpg",
        username=target.username,
        password=target.password,
        host=target.host,
        port=target.port,
        database=target.database,
    )
    return create_async_engine(
        url,
        poolclass=NullPool,
        hide_parameters=True,
        connect_args={
            "timeout": target.connect_timeout,
            "server_settings": {"application_name": "fireline"},
        },
    )


def _sqlite_connector(
    target: DbTarget, request: QueryRequest
) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    # mode=rw, not rwc: a mistyped path must fail, not create an empty database.
    uri = f"file:{quote(target.database)}?mode={'rw' if request.write else 'ro'}"

    async def connect() -> aiosqlite.Connection:
        deadline = time.monotonic() + request.timeout_seconds
        connection = await aiosqlite.connect(uri, uri=True, timeout=request.timeout_seconds)
        try:
            if not request.write:
                await connection.execute("PRAGMA query_only = ON")
            # A true answer interrupts the running statement: SQLite's own timeout.
            await connection.set_progress_handler(
                lambda: time.monotonic() > deadline, SQLITE_PROGRESS_STEPS
            )
        except BaseException:
            await connection.close()
            raise
        return connection

    return connect


async def _connect(engine: AsyncEngine, target: DbTarget) -> AsyncConnection:
    try:
        return await engine.connect()
    except DBAPIError as err:
        raise _connect_error(target, err.orig) from None
    except _DRIVER_ERRORS as err:
        raise _connect_error(target, err) from None
    except TimeoutError:
        raise DatabaseUnreachableError(
            f"connecting to {target.address} timed out after {target.connect_timeout:g}s"
        ) from None
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise DatabaseUnreachableError(f"cannot connect to {target.address}: {reason}") from None


def _connect_error(target: DbTarget, err: BaseException | None) -> DbConnectorError:
    message = _first_line(err)
    if target.is_sqlite:
        return DatabaseLoginError(
            f"cannot open {target.address}: {message}; the file must exist on the worker "
            "and be readable (writable for `write: true`) by it"
        )
    if _sqlstate(err).startswith("08"):
        return DatabaseUnreachableError(f"cannot connect to {target.address}: {message}")
    return DatabaseLoginError(
        f"{target.address} refused the login: {message}; check the connection's username, "
        "password and database"
    )


# --- running --------------------------------------------------------------------------


async def _run(
    connection: AsyncConnection, target: DbTarget, statement: TextClause, request: QueryRequest
) -> QueryResult:
    transaction = await connection.begin()
    try:
        if not target.is_sqlite:
            await _limit_postgres_transaction(connection, request)
        result = await connection.run_sync(_fetch, statement, request)
        if request.write:
            await transaction.commit()
        else:
            await transaction.rollback()
    except (DBAPIError, *_DRIVER_ERRORS) as err:
        driver_error = err.orig if isinstance(err, DBAPIError) else err
        names = _argument_names(statement, connection.dialect)
        raise _statement_error(target, names, request, driver_error) from None
    return result


async def _limit_postgres_transaction(connection: AsyncConnection, request: QueryRequest) -> None:
    if not request.write:  # first: it must come before any query of the transaction
        await connection.execute(text("SET TRANSACTION READ ONLY"))
    milliseconds = max(1, round(request.timeout_seconds * 1000))
    await connection.execute(text(f"SET LOCAL statement_timeout = {milliseconds}"))


def _fetch(connection: Connection, statement: TextClause, request: QueryRequest) -> QueryResult:
    # Reads stream (a server-side cursor: only max_rows + 1 rows are fetched); a write is
    # buffered, so that the number of rows it changed is known.
    if not request.write:
        statement = statement.execution_options(stream_results=True)
    result = connection.execute(statement, dict(request.params))
    if not result.returns_rows:
        return QueryResult(columns=[], rows=[], row_count=max(result.rowcount, 0), truncated=False)
    columns = list(result.keys())
    duplicates = sorted({name for name in columns if columns.count(name) > 1})
    if duplicates:
        raise SqlError(
            f"the query returns more than one column named {', '.join(duplicates)}; "
            "give each a distinct name with AS"
        )
    fetched = result.fetchmany(request.max_rows + 1)
    result.close()
    rows = [
        {name: _jsonable(value) for name, value in zip(columns, row, strict=True)}
        for row in fetched[: request.max_rows]
    ]
    return QueryResult(
        columns=columns,
        rows=rows,
        row_count=len(rows),
        truncated=len(fetched) > request.max_rows,
    )


def _statement_error(
    target: DbTarget, argument_names: list[str], request: QueryRequest, err: BaseException | None
) -> DbConnectorError:
    message = _first_line(err)
    state = _sqlstate(err)
    sqlite_code = getattr(err, "sqlite_errorname", "") or ""
    if not request.write and (
        state == _READ_ONLY_SQLSTATE or sqlite_code.startswith("SQLITE_READONLY")
    ):
        return WriteRefusedError(
            f"{target.address}: the step is read-only and the statement writes ({message}); "
            "add `write: true` to the step if it must change data"
        )
    if state == _QUERY_CANCELED_SQLSTATE or sqlite_code == "SQLITE_INTERRUPT":
        return _timeout(target, request)
    if state.startswith("08"):
        return DatabaseUnreachableError(f"lost the connection to {target.address}: {message}")
    message = _named_arguments(message, argument_names)
    code = f" [{state}]" if state else ""
    return SqlError(f"{target.address}: SQL error{code}: {message}")


def _named_arguments(message: str, names: list[str]) -> str:
    """asyncpg numbers arguments ($1); the author wrote names (:id)."""

    def name_of(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return f"parameter :{names[index]}" if 0 <= index < len(names) else match.group(0)

    return _ARGUMENT_NUMBER.sub(name_of, message)


def _timeout(target: DbTarget, request: QueryRequest) -> QueryTimeoutError:
    return QueryTimeoutError(
        f"{target.address}: the statement ran past its timeout of "
        f"{request.timeout_seconds:g}s and was stopped; raise `timeout` on the step "
        "or make the query cheaper"
    )


def _first_line(err: BaseException | None) -> str:
    """The first line of the driver's message (the rest may quote the statement)."""
    text_of_error = str(err).strip() or type(err).__name__
    return excerpt(text_of_error.splitlines()[0])


def _sqlstate(err: BaseException | None) -> str:
    state = getattr(err, "sqlstate", None)
    return state if isinstance(state, str) else ""


def _jsonable(value: Any) -> Any:
    """A column value as JSON can carry it through Temporal and into templates.

    Timestamps, dates and times become ISO 8601 text, intervals seconds, decimals exact
    text, UUIDs text, binary lowercase hex; arrays and JSON columns keep their shape.
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date | time_of_day):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    return str(value)
