"""Console output that never crashes on a character the console's code page lacks.

On Windows a redirected stdout gets the ANSI code page (cp1252): printing "✓" or "→" would raise
UnicodeEncodeError at the end of a successful run. Every entry point calls `safe_console()` first;
unencodable characters become "?" instead. A windowed exe has no stdout at all (None): left alone.
"""

from __future__ import annotations

import io
import sys


def safe_console() -> None:
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="replace")
