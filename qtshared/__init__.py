"""Qt code both programs share: the settings dialog and its connection checks, the About box, their Spanish
words, the QThread runner and the PySide6 guard.

The tray agent (agent/) and the control window (desktop/) both import it; it imports neither of them, only
`sync` and PySide6, so the control window needs nothing from the agent.
"""
