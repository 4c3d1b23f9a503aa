"""A fresh SQL Server database per test, on the server FERRASYNC_TEST_MSSQL names (collected only where it is
set: .github/workflows/sqlserver.yml runs SQL Server 2022 as a service), e.g.

    FERRASYNC_TEST_MSSQL='mssql://sa:Passw0rd!@127.0.0.1:1433/master?trust_server_certificate=yes'
"""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from sync.ferrawin.connection import connect
from sync.ferrawin.urls import parse_database_url

ADMIN_URL = os.environ.get("FERRASYNC_TEST_MSSQL", "")


def admin() -> Any:
    import pyodbc

    return pyodbc.connect(parse_database_url(ADMIN_URL).odbc_connection_string(), autocommit=True, timeout=15)


@pytest.fixture
def mssql_url() -> Iterator[str]:
    """The URL of an empty database created for this test and dropped afterwards."""
    name = f"fs_test_{uuid.uuid4().hex[:12]}"
    conn = admin()
    conn.execute(f"CREATE DATABASE {name}")
    base = parse_database_url(ADMIN_URL)
    try:
        yield dataclasses.replace(base, database=name).to_url()
    finally:
        conn.execute(f"ALTER DATABASE {name} SET SINGLE_USER WITH ROLLBACK IMMEDIATE")
        conn.execute(f"DROP DATABASE {name}")
        conn.close()


@pytest.fixture
def mssql_query(mssql_url: str) -> Iterator[Any]:
    """run(sql, *params) → rows, on the test's database through the engine's own connection code."""
    conn = connect(parse_database_url(mssql_url))
    try:
        yield lambda sql, *params: [tuple(r) for r in conn.cursor().execute(sql, *params).fetchall()]
    finally:
        conn.close()
