"""FerraSync agent: a Qt-free service (commands, runs, leadership, control files, auto-sync) plus thin Qt parts.

`agent.service.AgentService` is the heart and never imports Qt; `agent.cli` is the `ferrasync-agent`
entry point (`--headless` runs the service alone); the tray lives in `agent.tray_app` and `agent.qt_*`.
"""

from sync import __version__

__all__ = ["__version__"]
