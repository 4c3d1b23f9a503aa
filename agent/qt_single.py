"""One agent per user and data folder: a second launch asks the first to show its window, then exits.

QLocalServer/QLocalSocket (a named pipe on Windows, a socket file on Unix). Messages are one line:
"show" (open the status window) or "quit" (leave cleanly).

Another local user must not be able to answer in the agent's place (and so stop it from starting):
- the agent lock (agent/files.py) is taken first; only its holder listens, and a second launch talks
  only to the process whose PID the lock file names (the lock file lives in the private data folder);
- on Unix the socket is a file in that private folder (0700), and the listener's PID is read from the
  socket itself (SO_PEERCRED on Linux, LOCAL_PEERPID on macOS);
- on Windows a pipe name is global, so anyone could create it first: the client asks the pipe for its
  server's PID (GetNamedPipeServerProcessId) and talks only when it is the lock holder. That call
  cannot run here: `server_pid` is the seam a test double replaces (docs/windows-acceptance.md).
"""

from __future__ import annotations

import getpass
import hashlib
import os
import socket as pysocket
import struct
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from agent.files import AgentAlreadyRunning, AgentLock
from agent.ui import strings as S

MESSAGES = ("show", "quit")
SOCKET_FILE = "agent.sock"
MACOS_SOL_LOCAL, MACOS_LOCAL_PEERPID = 0, 0x002  # <sys/un.h>; Python does not name them
UNIX_PATH_MAX = 100  # sun_path is 108 bytes on Linux, 104 on macOS: keep clear of both

ServerPid = Callable[[QLocalSocket], "int | None"]


def server_name(home: Path) -> str:
    """Unix: a socket file in the private data folder (or the private runtime folder when that path is too
    long). Windows: a pipe name per user and per data folder (two --data-dir agents are two agents)."""
    home = Path(home).resolve()
    if sys.platform != "win32":
        inside = str(home / SOCKET_FILE)
        if len(inside.encode()) <= UNIX_PATH_MAX:
            return inside
        runtime = os.environ.get("XDG_RUNTIME_DIR", "")  # per user, 0700, created by the login manager
        base = Path(runtime) if runtime and _private_dir(Path(runtime)) else home
        return str(base / f"ferrasync-{_digest(home)}.sock")
    return f"ferrasync-agent-{_digest(home)}"


def _digest(home: Path) -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no login name (some services): the data folder alone still separates users
        user = "user"
    return hashlib.sha1(f"{user}|{home}".encode()).hexdigest()[:16]


def _private_dir(folder: Path) -> bool:
    if sys.platform == "win32":  # only for the Unix socket's folder
        raise NotImplementedError("_private_dir on Windows")
    try:
        info = folder.stat()
    except OSError:
        return False
    return info.st_uid == os.getuid() and not info.st_mode & 0o077


def server_pid(socket: QLocalSocket) -> int | None:
    """The PID of the process at the other end of a connected socket, or None when it cannot be told."""
    handle = int(socket.socketDescriptor())
    if handle <= 0:
        return None
    if sys.platform == "win32":
        return _windows_pipe_server_pid(handle)
    sock = pysocket.socket(fileno=os.dup(handle))
    try:
        if hasattr(pysocket, "SO_PEERCRED"):  # Linux: struct ucred {pid, uid, gid}
            creds = sock.getsockopt(pysocket.SOL_SOCKET, pysocket.SO_PEERCRED, struct.calcsize("3i"))
            return int(struct.unpack("3i", creds)[0])
        if sys.platform == "darwin":
            return int(sock.getsockopt(MACOS_SOL_LOCAL, MACOS_LOCAL_PEERPID))
        return None
    except OSError:
        return None
    finally:
        sock.close()


def _windows_pipe_server_pid(handle: int) -> int | None:  # pragma: no cover - Windows only
    import ctypes
    from ctypes import wintypes

    pid = wintypes.ULONG(0)
    # ctypes.windll exists only on Windows; mypy checks this module as Linux sees it.
    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined,unused-ignore]
    ok = kernel32.GetNamedPipeServerProcessId(wintypes.HANDLE(handle), ctypes.byref(pid))
    return int(pid.value) if ok else None


def allow_foreground(pid: int) -> None:
    """Windows only lets the foreground process raise a window: hand that right to the running agent."""
    if sys.platform == "win32":  # pragma: no cover - Windows only
        import ctypes

        ctypes.windll.user32.AllowSetForegroundWindow(int(pid))


def send_to_running(name: str, message: str = "show", timeout_ms: int = 1000, *,
                    holder_pid: int | None = None, peer_pid: ServerPid = server_pid) -> bool:  # fmt: skip
    """True when the agent holding the lock (PID `holder_pid`) was listening and got the message.

    A listener that is not that process (another user's pipe of the same name) gets nothing.
    """
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(timeout_ms):
        return False
    if holder_pid is not None and peer_pid(socket) != holder_pid:
        socket.abort()
        return False
    socket.write(f"{message}\n".encode())
    socket.flush()
    socket.waitForBytesWritten(timeout_ms)
    socket.disconnectFromServer()
    if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
        socket.waitForDisconnected(timeout_ms)
    return True


class SingleInstance(QObject):
    """The lock holder's listener. Call `listen()` only while holding the agent lock."""

    message = Signal(str)

    def __init__(self, name: str, parent: QObject) -> None:
        super().__init__(parent)
        self.name = name
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self.server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        if self.server.listen(self.name):
            return True
        # We hold the lock, so a socket file there is a crashed agent's leftover: take it over.
        QLocalServer.removeServer(self.name)
        return self.server.listen(self.name)

    @Slot()
    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            socket.setParent(self)
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)

    def _read(self, socket: QLocalSocket) -> None:
        while socket.canReadLine():
            text = bytes(socket.readLine().data()).decode(errors="replace").strip()
            if text in MESSAGES:
                self.message.emit(text)


Inform = Callable[[str], None]


def claim_instance(home: Path, parent: QObject, *, background: bool, inform: Inform,
                   peer_pid: ServerPid = server_pid) -> tuple[AgentLock, SingleInstance] | None:  # fmt: skip
    """Become the agent of `home` (lock first, then listen), or hand over to the running one and return None.

    A second launch is never silent: the running agent brings its window forward (and says it was
    already running); if it cannot be reached, `inform` tells the user why, unless started in the
    background (Windows start-up), where nobody is waiting for a window.
    """
    lock = AgentLock(home)
    try:
        lock.acquire()
    except AgentAlreadyRunning as running:
        pid = running.holder_pid
        if pid is not None:
            allow_foreground(pid)
        reached = pid is not None and send_to_running(server_name(home), "show", holder_pid=pid, peer_pid=peer_pid)
        if not reached and not background:
            inform(S.ALREADY_RUNNING_UNREACHABLE.format(detail=running.message))
        return None
    single = SingleInstance(server_name(home), parent)
    single.listen()
    return lock, single
