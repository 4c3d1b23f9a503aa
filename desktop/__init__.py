"""FerraSync control window: a Qt-free controller (this package) and the Qt window (`desktop.ui`)."""

from sync import __version__

__all__ = ["__version__"]
