"""`ferrasync devstack ferrawin --db mssql://…` here, where no SQL Server answers: a clear error, no password,
nothing written. The real runs are in tests/mssql (SQL Server in CI)."""

from __future__ import annotations

import pytest

from sync.devstack.ferrawin_data import generate
from sync.devstack.ferrawin_edit import edit_day
from sync.errors import DatabaseError


@pytest.mark.parametrize("action", ["generate", "edit"])
def test_an_unreachable_sql_server_is_a_clear_error_without_the_password(closed_port: int, action: str) -> None:
    url = f"mssql://sa:pw-secreta@127.0.0.1:{closed_port}/DEMO?trust_server_certificate=yes"
    with pytest.raises(DatabaseError) as caught:
        generate(url, 5, seed=1) if action == "generate" else edit_day(url, seed=1)
    assert caught.value.message.startswith(f"Cannot connect to mssql://sa:***@127.0.0.1:{closed_port}/DEMO")
    assert "pw-secreta" not in caught.value.message
