"""`ferrasync-control`: the control window for any machine (`--version` prints the version and exits)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from desktop import __version__, strings
from sync.console import safe_console
from sync.crash import guarded


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ferrasync-control", description="FerraSync — ventana de control remoto")
    parser.add_argument("--version", action="version", version=strings.VERSION_LINE.format(version=__version__))
    parser.add_argument("--home", help="carpeta de datos (por defecto FERRASYNC_HOME o la del usuario)")
    parser.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING (por defecto WARNING)")
    return parser


@guarded("ferrasync-control")
def main(argv: Sequence[str] | None = None) -> int:
    safe_console()
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.WARNING),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # fmt: skip
    # Qt is imported only now, so `--version` works without a display.
    from PySide6.QtWidgets import QApplication, QMessageBox

    from desktop.ui.window import ControlWindow
    from qtshared.qt_compat import protect_singletons
    from sync.config.loading import load_settings
    from sync.errors import FerraSyncError

    protect_singletons()  # before the app and the subscriber threads exist
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("FerraSync Control")
    try:
        settings = load_settings(cli={"FERRASYNC_HOME": args.home} if args.home else None)
    except FerraSyncError as exc:
        QMessageBox.critical(None, strings.APP_TITLE, exc.message)
        return 2
    window = ControlWindow(settings)
    window.show()
    window.start()
    return int(app.exec())


if __name__ == "__main__":
    raise SystemExit(main())
