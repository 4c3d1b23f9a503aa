"""The "Acerca de" box of both programs: name, version and publisher, the same facts as the executables'
Windows version resource (all from pyproject.toml through the installed package's metadata)."""

from __future__ import annotations

from importlib import metadata

from PySide6.QtWidgets import QMessageBox, QWidget

from agent.ui import strings as S
from sync import __version__


def publisher() -> str:
    try:
        # An email.message.Message at run time; the PackageMetadata protocol does not declare get().
        return metadata.metadata("ferrasync").get("Author") or ""  # type: ignore[attr-defined,unused-ignore]
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return ""


def about_text(program: str) -> str:
    lines = [f"<b>{program}</b>", S.ABOUT_VERSION.format(version=__version__)]
    if publisher():
        lines.append(f"© {publisher()}")
    lines.append(S.ABOUT_BODY)
    return "<br>".join(lines)


def show_about(parent: QWidget | None, program: str) -> QMessageBox:
    """Non-modal, so the tray keeps working while it is open; returned for tests."""
    box = QMessageBox(QMessageBox.Icon.Information, S.ABOUT_TITLE.format(program=program), about_text(program),
                      QMessageBox.StandardButton.Close, parent)  # fmt: skip
    box.setObjectName("about")
    box.button(QMessageBox.StandardButton.Close).setText(S.ABOUT_CLOSE)
    box.setModal(False)
    box.show()
    return box
