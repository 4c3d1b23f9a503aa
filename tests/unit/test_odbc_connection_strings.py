"""The ODBC connection strings FerraSync hands the SQL Server drivers, and how their failures read.

Only Windows with a real SQL Express can prove the connection itself (docs/windows-acceptance.md);
here: the exact strings for named instances and Driver 18 URLs, and the Spanish message for the
errors Driver 18 really returns (texts copied from msodbcsql 18 on Linux and on Windows)."""

from __future__ import annotations

import pytest

from sync.config.loading import load_settings
from sync.ferrawin import connection
from sync.ferrawin.connection import CertificateError, HostUnreachableError, classify
from sync.ferrawin.urls import parse_database_url

DRIVER18 = "DRIVER={ODBC Driver 18 for SQL Server}"


@pytest.mark.parametrize(("url", "server"), [
    ("mssql://sa:pw@SERVIDOR\\SQLEXPRESS/FERRAWIN", "SERVER=SERVIDOR\\SQLEXPRESS;"),
    ("mssql://sa:pw@SERVIDOR%5CSQLEXPRESS/FERRAWIN", "SERVER=SERVIDOR\\SQLEXPRESS;"),
    ("mssql://sa:pw@SERVIDOR\\SQLEXPRESS:1433/FERRAWIN", "SERVER=SERVIDOR\\SQLEXPRESS;"),  # the default: dropped
    ("mssql://sa:pw@SERVIDOR\\SQLEXPRESS:50123/FERRAWIN", "SERVER=SERVIDOR\\SQLEXPRESS,50123;"),  # chosen: kept
    ("mssql://sa:pw@Servidor/FERRAWIN", "SERVER=Servidor,1433;"),  # case kept as typed
    ("mssql://sa:pw@10.0.0.5:1500/FERRAWIN", "SERVER=10.0.0.5,1500;"),
])  # fmt: skip
def test_named_instance_never_gets_the_default_port(url: str, server: str) -> None:
    assert server in parse_database_url(url).odbc_connection_string()


def test_the_parts_form_with_a_named_instance(tmp_path: object) -> None:
    settings = load_settings(env={"FERRAWIN_HOST": "SERVIDOR\\SQLEXPRESS", "FERRAWIN_PASSWORD": "pw"},
                             home=tmp_path)  # type: ignore[arg-type]
    text = settings.ferrawin_database().odbc_connection_string(driver="ODBC Driver 18 for SQL Server")
    assert text == (f"{DRIVER18};SERVER=SERVIDOR\\SQLEXPRESS;DATABASE=FERRAWIN;UID=sa;PWD=pw;Encrypt=yes;"
                    "TrustServerCertificate=yes;")


@pytest.mark.parametrize(("query", "tail"), [
    ("driver=ODBC+Driver+18+for+SQL+Server", "Encrypt=yes;TrustServerCertificate=yes;"),  # as the PHP tool
    ("driver=ODBC+Driver+18+for+SQL+Server&encrypt=yes", "Encrypt=yes;TrustServerCertificate=yes;"),
    ("driver=ODBC+Driver+18+for+SQL+Server&trust_server_certificate=no", "Encrypt=yes;"),
    ("TrustServerCertificate=no", "Encrypt=yes;"),  # ODBC's own spelling
    ("encrypt=no", "Encrypt=no;TrustServerCertificate=yes;"),
])  # fmt: skip
def test_driver18_url_encrypts_and_trusts_unless_told_not_to(query: str, tail: str) -> None:
    text = parse_database_url(f"mssql://sa:pw@SERVIDOR/FERRAWIN?{query}").odbc_connection_string()
    assert text.startswith(DRIVER18) and text.endswith(";PWD=pw;" + tail)


# What msodbcsql 18 says for a self-signed certificate (Linux, OpenSSL) and an untrusted chain (Windows).
SELF_SIGNED = ("08001", "[Microsoft][ODBC Driver 18 for SQL Server]SSL Provider: [error:0A000086:SSL routines::"
               "certificate verify failed:self-signed certificate] (-1) (SQLDriverConnect)")
UNTRUSTED = ("08001", "[Microsoft][ODBC Driver 18 for SQL Server]SSL Provider: The certificate chain was issued by "
             "an authority that is not trusted. (-2146893019) (SQLDriverConnect)")
TIMEOUT = ("HYT00", "[Microsoft][ODBC Driver 18 for SQL Server]Login timeout expired (0) (SQLDriverConnect)")


@pytest.mark.parametrize("args", [SELF_SIGNED, UNTRUSTED])
def test_untrusted_certificate_is_not_blamed_on_the_firewall(args: tuple[str, str]) -> None:
    url = parse_database_url("mssql://sa:pw@SERVIDOR\\SQLEXPRESS/FERRAWIN?trust_server_certificate=no")
    error = classify(Exception(*args), url)
    assert isinstance(error, CertificateError)
    assert error.message.startswith("El servidor SERVIDOR\\SQLEXPRESS respondió, pero su certificado no es de "
                                    "confianza")
    assert "trust_server_certificate=no" in error.message and "cortafuegos permite" not in error.message


def test_a_named_instance_that_does_not_answer_mentions_the_browser_service() -> None:
    error = classify(Exception(*TIMEOUT), parse_database_url("mssql://sa:pw@SERVIDOR\\SQLEXPRESS/FERRAWIN"))
    assert isinstance(error, HostUnreachableError) and "«SQL Server Browser»" in error.message
    plain = classify(Exception(*TIMEOUT), parse_database_url("mssql://sa:pw@SERVIDOR/FERRAWIN"))
    assert "SERVIDOR:1433" in plain.message and "Browser" not in plain.message


def test_the_driver_reported_is_the_one_connect_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    # Driver 17 listed after 18: a "last one found" report named 17 while connect() used 18.
    monkeypatch.setattr(connection, "installed_drivers",
                        lambda: ["ODBC Driver 18 for SQL Server", "ODBC Driver 17 for SQL Server"])
    assert connection.driver_for(parse_database_url("mssql://sa:pw@S/F")) == "ODBC Driver 18 for SQL Server"
    wanted = parse_database_url("mssql://sa:pw@S/F?driver=ODBC+Driver+17+for+SQL+Server")
    assert connection.driver_for(wanted) == "ODBC Driver 17 for SQL Server"
