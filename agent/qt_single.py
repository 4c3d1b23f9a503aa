"""One agent per user and data folder: a second launch asks the first to show its window, then exits.

QLocalServer/QLocalSocket (a named pipe on Windows, a socket file on Unix). Messages are one line:
"show" (open the status window) or "quit" (leave cleanly).
"""

from __future__ import annotations

import getpass
import hashlib
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

MESSAGES = ("show", "quit")


def server_name(home: Path) -> str:
    """Per user and per data folder (two --data-dir agents are two agents); short for Windows pipes."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name (some services): the data folder alone still separates users
        user = "user"
    digest = hashlib.sha1(f"{user}|{Path(home).resolve()}".encode()).hexdigest()[:16]
    return f"ferrasync-agent-{digest}"


def send_to_running(name: str, message: str = "show", timeout_ms: int = 1000) -> bool:
    """True when an agent was listening and got the message."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(timeout_ms):
        return False
    socket.write(f"{message}\n".encode())
    socket.flush()
    socket.waitForBytesWritten(timeout_ms)
    socket.disconnectFromServer()
    if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
        socket.waitForDisconnected(timeout_ms)
    return True


class SingleInstance(QObject):
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
        # A socket file left by a crashed agent: nobody answered (the caller checked), so take it over.
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
