"""connect(): typed, actionable errors on the loopback/PostgreSQL analogues of each office failure."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sync.errors import DatabaseError
from sync.ferrawin import connection
from sync.ferrawin.connection import (
    DatabaseMissingError,
    DriverMissingError,
    HostUnreachableError,
    LoginFailedError,
    connect,
)
from sync.ferrawin.urls import parse_database_url


def test_postgresql_connects_and_queries(pg_url: str) -> None:
    conn = connect(pg_url, query_timeout=30)
    assert conn.cursor().execute("SELECT 1 + 1").fetchone()[0] == 2
    conn.close()


def test_closed_port_is_unreachable(closed_port: int) -> None:
    started = time.monotonic()
    with pytest.raises(HostUnreachableError) as err:
        connect(f"postgresql://ferrasync:s3cr3t-pw@127.0.0.1:{closed_port}/ferrawin", login_timeout=3)
    assert time.monotonic() - started < 10
    assert f"127.0.0.1:{closed_port}" in err.value.message and "cortafuegos" in err.value.message
    assert "s3cr3t-pw" not in err.value.message


def test_wrong_password_is_login_failed(pg_url: str) -> None:
    url = parse_database_url(pg_url)
    bad = pg_url.replace(f":{url.password}@", ":wrong-pw-123@")
    with pytest.raises(LoginFailedError) as err:
        connect(bad)
    assert "ferrasync" in err.value.message and "contraseña" in err.value.message
    assert "wrong-pw-123" not in err.value.message


def test_missing_database(pg_url: str) -> None:
    url = parse_database_url(pg_url)
    with pytest.raises(DatabaseMissingError) as err:
        connect(pg_url.replace(f"/{url.database}", "/no_such_db_fs"))
    assert "no_such_db_fs" in err.value.message and "ferrasync" not in err.value.message.split("Detalle")[0][:0]


def test_missing_sqlserver_driver_lists_installed_ones(closed_port: int) -> None:
    # This machine has no SQL Server ODBC driver: the auto-detection must say so and what to install.
    with pytest.raises(DriverMissingError) as err:
        connect(f"mssql://sa:pw-xyz@127.0.0.1:{closed_port}/FERRAWIN")
    message = err.value.message
    assert "ODBC Driver 18 for SQL Server" in message and "PostgreSQL Unicode" in message
    assert "pw-xyz" not in message


def test_explicit_driver_name_wins_and_is_checked(closed_port: int) -> None:
    with pytest.raises(DriverMissingError) as err:
        connect(f"mssql://sa:pw@127.0.0.1:{closed_port}/FERRAWIN?driver=ODBC+Driver+17+for+SQL+Server")
    assert "«ODBC Driver 17 for SQL Server»" in err.value.message


def test_driver_preference_order(monkeypatch: pytest.MonkeyPatch) -> None:
    url = parse_database_url("mssql://h/FERRAWIN?trusted_connection=yes")
    monkeypatch.setattr(connection, "installed_drivers", lambda: ["SQL Server", "ODBC Driver 17 for SQL Server"])
    assert connection._sqlserver_driver(url) == "ODBC Driver 17 for SQL Server"
    monkeypatch.setattr(connection, "installed_drivers", lambda: ["SQL Server", "ODBC Driver 18 for SQL Server"])
    assert connection._sqlserver_driver(url) == "ODBC Driver 18 for SQL Server"


def test_unknown_odbc_driver_is_reported_as_missing(pg_url: str) -> None:
    with pytest.raises(DriverMissingError):
        connect(pg_url + "?driver=No+Such+Driver")


def test_sqlite_missing_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nope.db"
    with pytest.raises(DatabaseMissingError):
        connect(f"sqlite:///{path}")
    assert not path.exists()


def test_errors_are_database_errors() -> None:
    assert issubclass(HostUnreachableError, DatabaseError) and DriverMissingError.exit_code == 3
