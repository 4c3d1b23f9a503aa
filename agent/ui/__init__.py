"""The tray agent's presentation: a Qt-free model (`model`) and thin Qt views over it."""
