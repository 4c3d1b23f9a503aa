"""Keyring backends that fail as Windows Credential Manager does (for tests of sync/secrets.py and the dialog).

`WinCredError` behaves like pywintypes.error: not an OSError, args = (code, function, text), `.winerror`."""

from __future__ import annotations

from sync.secrets import MemoryKeyring

LOGON_SESSION = (1312, "CredRead", "A specified logon session does not exist. It may already have been terminated.")
BAD_STUB = (1783, "CredWrite", "The stub received bad data.")


class WinCredError(Exception):
    def __init__(self, code: int, funcname: str, strerror: str) -> None:
        super().__init__(code, funcname, strerror)
        self.winerror, self.funcname, self.strerror = code, funcname, strerror


class WindowsLikeKeyring(MemoryKeyring):
    """A working keyring whose chosen operations fail as Credential Manager does."""

    priority = 1

    def __init__(self, fail_on: set[str], error: tuple[int, str, str]) -> None:
        super().__init__()
        self.fail_on, self.error = fail_on, error

    def _maybe_fail(self, op: str) -> None:
        if op in self.fail_on:
            raise WinCredError(*self.error)

    def get_password(self, service: str, username: str) -> str | None:
        self._maybe_fail("get")
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self._maybe_fail("set")
        super().set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        self._maybe_fail("delete")
        super().delete_password(service, username)
