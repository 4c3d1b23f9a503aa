"""A registry double for Windows-only code (agent/autostart.py): the part of `winreg` it uses, with the
access rights checked as Windows checks them. Install with `monkeypatch.setitem(sys.modules, "winreg", ...)`."""

from __future__ import annotations

import types


class FakeKey:
    def __init__(self, reg: FakeWinreg, path: str, access: int) -> None:
        self.reg, self.path, self.access = reg, path, access

    def __enter__(self) -> FakeKey:
        return self

    def __exit__(self, *exc: object) -> None:
        self.reg.closed += 1


class FakeWinreg(types.ModuleType):
    """The part of winreg the strategy uses, with the access rights checked."""

    HKEY_CURRENT_USER = 0x80000001
    KEY_READ, KEY_SET_VALUE, REG_SZ, REG_BINARY = 0x20019, 0x0002, 1, 3

    def __init__(self) -> None:
        super().__init__("winreg")
        self.values: dict[tuple[str, str], tuple[object, int]] = {}
        self.keys: set[str] = set()
        self.closed = 0

    def OpenKey(self, hive: int, path: str, reserved: int, access: int) -> FakeKey:
        assert hive == self.HKEY_CURRENT_USER
        if path not in self.keys:
            raise FileNotFoundError(path)
        return FakeKey(self, path, access)

    def CreateKeyEx(self, hive: int, path: str, reserved: int, access: int) -> FakeKey:
        assert hive == self.HKEY_CURRENT_USER
        self.keys.add(path)
        return FakeKey(self, path, access)

    def QueryValueEx(self, key: FakeKey, name: str) -> tuple[object, int]:
        assert key.access == self.KEY_READ
        if (key.path, name) not in self.values:
            raise FileNotFoundError(name)
        return self.values[(key.path, name)]

    def SetValueEx(self, key: FakeKey, name: str, reserved: int, kind: int, value: object) -> None:
        assert key.access == self.KEY_SET_VALUE
        self.values[(key.path, name)] = (value, kind)

    def DeleteValue(self, key: FakeKey, name: str) -> None:
        assert key.access == self.KEY_SET_VALUE
        if (key.path, name) not in self.values:
            raise FileNotFoundError(name)
        del self.values[(key.path, name)]
