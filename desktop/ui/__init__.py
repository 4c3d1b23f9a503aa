"""The control window (PySide6): thin widgets over `desktop.controller.Controller`."""
