"""A module over 400 lines is split, or says in its first lines why it is one cohesive thing.

The marker (docs/decisions.md, "Module size"): within the first lines of the module docstring, a line
that starts with `Kept whole:` followed by the reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("sync", "agent", "desktop")
LIMIT = 400
MARKER = "Kept whole:"
MARKER_WITHIN = 12  # docstring lines


def problem(path: Path) -> str | None:
    """Why this module breaks the rule, or None."""
    text = path.read_text(encoding="utf-8")
    lines = len(text.splitlines())
    if lines <= LIMIT:
        return None
    docstring = ast.get_docstring(ast.parse(text)) or ""
    for line in docstring.splitlines()[:MARKER_WITHIN]:
        reason = line.strip().removeprefix(MARKER)
        if line.strip().startswith(MARKER) and len(reason.split()) >= 4:
            return None
    return (
        f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} has {lines} lines: split it, or say "
        f"why it is one cohesive thing in a docstring line starting with {MARKER!r} (first {MARKER_WITHIN} lines)"
    )


def long_modules() -> list[Path]:
    return [
        p
        for pkg in PACKAGES
        for p in sorted((ROOT / pkg).rglob("*.py"))
        if len(p.read_text("utf-8").splitlines()) > LIMIT
    ]


def test_every_module_over_400_lines_says_why_it_is_kept_whole() -> None:
    found = [problem(p) for p in long_modules()]
    assert [f for f in found if f] == []


def test_the_check_refuses_a_long_module_without_the_marker(tmp_path: Path) -> None:
    body = "x = 1\n" * LIMIT
    bare = tmp_path / "bare.py"
    bare.write_text('"""Does many things."""\n' + body, encoding="utf-8")
    vague = tmp_path / "vague.py"
    vague.write_text('"""Does many things.\n\nKept whole: yes.\n"""\n' + body, encoding="utf-8")
    late = tmp_path / "late.py"
    late.write_text('"""Does many things.\n' + "more\n" * MARKER_WITHIN + f'{MARKER} one state machine, one lock."""\n'
                    + body, encoding="utf-8")  # fmt: skip
    kept = tmp_path / "kept.py"
    kept.write_text(f'"""One thing.\n\n{MARKER} one class, one lock guarding all its state.\n"""\n' + body, "utf-8")
    short = tmp_path / "short.py"
    short.write_text('"""Short."""\nx = 1\n', encoding="utf-8")
    assert "bare.py has 401 lines" in (problem(bare) or "")
    assert problem(vague) is not None and problem(late) is not None
    assert problem(kept) is None and problem(short) is None
