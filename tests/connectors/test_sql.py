"""The SQL connector on a real SQLite file and (with FIRELINE_TEST_POSTGRES_URL) a real
PostgreSQL server: read-only by default, writes that commit, bind parameters, limits and
errors that never carry the password."""

from __future__ import annotations

import logging
import pickle
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from connectors.sql import (
    DatabaseLoginError,
    DatabaseUnreachableError,
    DbTarget,
    QueryRequest,
    QueryResult,
    QueryTimeoutError,
    SqlError,
    WriteRefusedError,
    check_database,
    run_query,
)
from tests.fakes.sql_databases import FLAGS, ScratchDb, postgres_scratch, sqlite_scratch
from tests.store.databases import POSTGRES_URL_ENV, postgres_url

HOSTILE = "'; DROP TABLE flags; --"


@pytest.fixture(params=["sqlite", "postgresql"])
async def scratch(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ScratchDb]:
    if request.param == "sqlite":
        yield sqlite_scratch(tmp_path)
        return
    server_url = postgres_url()
    if server_url is None:
        pytest.skip(f"set {POSTGRES_URL_ENV} to run against PostgreSQL")
    async with postgres_scratch(server_url) as database:
        yield database


@pytest.fixture
async def postgres(tmp_path: Path) -> AsyncIterator[ScratchDb]:
    server_url = postgres_url()
    if server_url is None:
        pytest.skip(f"set {POSTGRES_URL_ENV} to run against PostgreSQL")
    async with postgres_scratch(server_url) as database:
        yield database


async def query(scratch: ScratchDb, sql: str, **options: object) -> QueryResult:
    """Run `sql` with {t} standing for the scratch table."""
    request = QueryRequest(sql.format(t=scratch.table), **options)  # type: ignore[arg-type]
    return await run_query(scratch.target, request)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- reading ----------------------------------------------------------------------------


async def test_a_read_returns_columns_rows_as_mappings_and_the_count(scratch: ScratchDb) -> None:
    result = await query(
        scratch,
        "SELECT name, enabled FROM {t} WHERE enabled = :on ORDER BY name",
        params={"on": 1},
    )
    assert result.as_dict() == {
        "columns": ["name", "enabled"],
        "rows": [{"name": "checkout", "enabled": 1}, {"name": "search", "enabled": 1}],
        "row_count": 2,
        "truncated": False,
    }


async def test_more_rows_than_max_rows_are_cut_and_flagged(scratch: ScratchDb) -> None:
    result = await query(scratch, "SELECT name FROM {t} ORDER BY name", max_rows=2)
    assert result.rows == [{"name": "banner"}, {"name": "checkout"}]
    assert (result.row_count, result.truncated) == (2, True)
    exact = await query(scratch, "SELECT name FROM {t} ORDER BY name", max_rows=3)
    assert (exact.row_count, exact.truncated) == (3, False)


@pytest.mark.parametrize("max_rows", [0, 10_001])
def test_max_rows_is_1_to_10000(max_rows: int) -> None:
    with pytest.raises(SqlError, match="max_rows must be 1 to 10000"):
        QueryRequest("SELECT 1", max_rows=max_rows)


async def test_a_hostile_value_stays_a_literal_value(scratch: ScratchDb) -> None:
    by_name = "SELECT name, enabled FROM {t} WHERE name = :name"
    assert (await query(scratch, by_name, params={"name": HOSTILE})).rows == []
    await query(
        scratch,
        "INSERT INTO {t} (name, enabled) VALUES (:name, 0)",
        params={"name": HOSTILE},
        write=True,
    )
    found = await query(scratch, by_name, params={"name": HOSTILE})
    assert found.rows == [{"name": HOSTILE, "enabled": 0}]
    assert await scratch.flags() == {**FLAGS, HOSTILE: 0}
    assert scratch.table in await scratch.table_names()


# --- read-only unless write -------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO {t} (name, enabled) VALUES ('new', 1)",
        "UPDATE {t} SET enabled = 0",
        "DELETE FROM {t}",
        "CREATE TABLE fireline_sql_extra (a INTEGER)",
        "DROP TABLE {t}",
    ],
)
async def test_a_statement_that_writes_is_refused_without_write(
    scratch: ScratchDb, sql: str
) -> None:
    tables = await scratch.table_names()
    with pytest.raises(WriteRefusedError) as refused:
        await query(scratch, sql)
    assert "add `write: true` to the step if it must change data" in str(refused.value)
    assert refused.value.retryable is False
    assert await scratch.flags() == FLAGS
    assert await scratch.table_names() == tables


async def test_with_write_the_change_commits(scratch: ScratchDb) -> None:
    result = await query(
        scratch,
        "UPDATE {t} SET enabled = :on WHERE name = :name",
        params={"on": 0, "name": "checkout"},
        write=True,
    )
    assert result.as_dict() == {"columns": [], "rows": [], "row_count": 1, "truncated": False}
    assert await scratch.flags() == {**FLAGS, "checkout": 0}


async def test_a_write_with_returning_gives_the_rows(scratch: ScratchDb) -> None:
    result = await query(
        scratch,
        "UPDATE {t} SET enabled = 0 WHERE enabled = 1 RETURNING name",
        write=True,
        max_rows=1,
    )
    assert result.columns == ["name"] and result.truncated is True
    assert await scratch.flags() == dict.fromkeys(FLAGS, 0)


async def test_ddl_with_write_commits(scratch: ScratchDb) -> None:
    await query(scratch, "CREATE TABLE fireline_sql_made_{t} (a INTEGER)", write=True)
    assert f"fireline_sql_made_{scratch.table}" in await scratch.table_names()


async def test_a_failing_write_changes_nothing(scratch: ScratchDb) -> None:
    with pytest.raises(SqlError) as failed:
        await query(
            scratch,
            "INSERT INTO {t} (name, enabled) VALUES (:name, 1)",
            params={"name": "checkout"},  # the primary key exists
            write=True,
        )
    assert "SQL error" in str(failed.value) and failed.value.retryable is False
    assert await scratch.flags() == FLAGS


async def test_more_than_one_statement_is_refused(scratch: ScratchDb) -> None:
    with pytest.raises(SqlError):
        await query(scratch, "SELECT 1; DELETE FROM {t}", write=True)
    assert await scratch.flags() == FLAGS


# --- parameters, errors and limits --------------------------------------------------------


async def test_parameters_must_match_the_query_before_anything_connects() -> None:
    nowhere = DbTarget(host="127.0.0.1", port=closed_port(), username="u", database="d")
    with pytest.raises(SqlError) as mismatch:
        await run_query(nowhere, QueryRequest("SELECT :a, :b", params={"a": 1, "c": 2}))
    assert str(mismatch.value) == (
        "the query uses :b but params has no 'b' (give it null for NULL; a colon that is not "
        "a parameter is written \\:b); params has 'c', which the query does not use "
        "(write it :c in the query)"
    )


async def test_an_sql_error_quotes_the_first_line_of_the_database_message(
    scratch: ScratchDb,
) -> None:
    with pytest.raises(SqlError) as failed:
        await query(scratch, "SELECT nope FROM {t}")
    message = str(failed.value)
    assert message.startswith(f"{scratch.target.address}: SQL error")
    assert "nope" in message and "\n" not in message
    if scratch.kind == "postgresql":
        assert "[42703]" in message  # undefined_column


async def test_postgres_argument_errors_name_the_parameter(postgres: ScratchDb) -> None:
    with pytest.raises(SqlError, match="invalid input for parameter :on"):
        await query(postgres, "SELECT name FROM {t} WHERE enabled = :on", params={"on": "1"})


async def test_columns_with_the_same_name_are_refused(scratch: ScratchDb) -> None:
    with pytest.raises(SqlError, match="more than one column named name; give each a distinct"):
        await query(scratch, "SELECT name, name FROM {t}")


async def test_a_statement_past_its_timeout_is_stopped(scratch: ScratchDb) -> None:
    counting = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)"
    forever = (
        "SELECT pg_sleep(30)"
        if scratch.kind == "postgresql"
        else f"{counting} SELECT count(*) FROM c"
    )
    with pytest.raises(QueryTimeoutError) as stopped:
        await query(scratch, forever, timeout_seconds=0.3)
    assert "ran past its timeout of 0.3s" in str(stopped.value)
    # The database is usable at once: nothing is left running or locked.
    assert (await query(scratch, "SELECT count(*) AS n FROM {t}")).rows == [{"n": len(FLAGS)}]


async def test_postgres_values_become_json_values(postgres: ScratchDb) -> None:
    result = await query(
        postgres,
        "SELECT TIMESTAMPTZ '2024-05-01 10:00:00+00' AS at, 12.50::numeric AS amount, "
        "'\\x01ff'::bytea AS raw, INTERVAL '90 seconds' AS wait, ARRAY[1, 2] AS ids, "
        "CAST(:doc AS jsonb) AS doc",
        params={"doc": '{"a": [1]}'},
    )
    assert result.rows == [
        {
            "at": "2024-05-01T10:00:00+00:00",
            "amount": "12.50",
            "raw": "01ff",
            "wait": 90.0,
            "ids": [1, 2],
            "doc": {"a": [1]},
        }
    ]


# --- connecting ------------------------------------------------------------------------


async def test_a_closed_port_is_unreachable_and_may_be_retried() -> None:
    port = closed_port()
    target = DbTarget(host="127.0.0.1", port=port, username="u", password="pw", database="d")
    with pytest.raises(DatabaseUnreachableError) as unreachable:
        await run_query(target, QueryRequest("SELECT 1"))
    assert str(unreachable.value).startswith(f"cannot connect to 127.0.0.1:{port}/d")
    assert unreachable.value.retryable is True


@pytest.mark.parametrize("write", [False, True])
async def test_a_missing_sqlite_file_is_refused_and_not_created(
    tmp_path: Path, write: bool
) -> None:
    path = tmp_path / "missing.db"
    with pytest.raises(DatabaseLoginError, match=f"cannot open SQLite file {path}"):
        await run_query(DbTarget(database=str(path)), QueryRequest("SELECT 1", write=write))
    assert not path.exists()


async def test_errors_survive_pickling_with_their_type() -> None:
    error = pickle.loads(pickle.dumps(WriteRefusedError("refused")))
    assert type(error) is WriteRefusedError and error.retryable is False


async def test_the_password_is_in_no_error_repr_or_log_record(
    postgres: ScratchDb, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # it sets itself to WARNING
    password = postgres.target.password
    assert password is not None
    wrong = replace(postgres.target, password=password[::-1])
    messages = []
    for target, sql in [
        (postgres.target, "SELECT name FROM {t}"),
        (postgres.target, "SELECT nope FROM {t}"),
        (postgres.target, "DELETE FROM {t}"),
        (wrong, "SELECT 1"),
        (replace(postgres.target, database="fireline_sql_no_such_db"), "SELECT 1"),
    ]:
        try:
            await run_query(target, QueryRequest(sql.format(t=postgres.table)))
        except (SqlError, DatabaseLoginError) as err:
            messages.append(str(err))
    checks = [await check_database(wrong), await check_database(postgres.target)]

    assert len(messages) == 4
    assert "password authentication failed" in messages[2]
    assert (checks[0].reachable, checks[0].authenticated) == (True, False)
    assert (checks[1].reachable, checks[1].authenticated, checks[1].error) == (True, True, None)
    assert any(r.name.startswith("sqlalchemy") for r in caplog.records), "no DEBUG capture"
    logged = caplog.text + "".join(repr(record.args) for record in caplog.records)
    everything = " ".join([*messages, *(str(c.error) for c in checks), repr(postgres.target)])
    for secret in (password, password[::-1]):
        assert secret not in everything
        assert secret not in logged


async def test_check_database_on_sqlite_and_a_closed_port(tmp_path: Path) -> None:
    good = await check_database(sqlite_scratch(tmp_path).target)
    missing = await check_database(DbTarget(database=str(tmp_path / "none.db")))
    closed = await check_database(
        DbTarget(host="127.0.0.1", port=closed_port(), username="u", database="d")
    )
    assert (good.reachable, good.authenticated, good.error) == (True, True, None)
    assert (missing.reachable, missing.authenticated) == (False, False)
    assert missing.error is not None and "cannot open SQLite file" in missing.error
    assert (closed.reachable, closed.authenticated) == (False, False)
    assert closed.error is not None and "cannot connect to 127.0.0.1:" in closed.error
