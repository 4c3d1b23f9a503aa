"""Every tracked file cites only what the repository contains: its own docs/, never a document that lives
outside the checkout (the first design, the reference notes, a sibling `shared/` folder) or an issue number.
Someone who clones the repository must be able to follow every citation."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()  # it spells the patterns out, so it is skipped

OUTSIDE = [
    (re.compile(r"\.\./shared|\bshared/(?:design|ui|reference)"), "a path outside the repository"),
    (re.compile(r"\breference/|\b[Rr]eference (?:§|[A-Z]\.\d)|\breference [\w-]+\.md"), "the reference notes"),
    (re.compile(r"(?<!\.md )(?<!\.md` )§ ?\d"), "a numbered section of a document outside the repository"),
    (re.compile(r"\bdesign(?:\.md)? §|\bdesign document\b|(?<![\w/-])design\.md\b"), "the first design"),
    (
        re.compile(
            r"\b(?:seed-design|ferrawin-sync-php|manager-laravel|pusher-protocol-and-peers"
            r"|python-stack-evaluation|python-desktop-patterns)\b"
        ),
        "the reference notes",
    ),
    (re.compile(r"\b[Ii]ssues? #?\d+\b|(?:^|(?<=[\s(\[,]))#\d{1,4}\b(?![\w-])"), "an issue number"),
]
UI_MD = re.compile(r"(?<![\w/.-])ui\.md\b")  # docs/ui.md, or ui.md inside docs/ itself (a relative link)


def tracked_text_files() -> list[str]:
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [n for n in names.decode().split("\0") if n and n != THIS and (ROOT / n).is_file()]


def citations_outside(name: str, text: str) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        reasons = [why for pattern, why in OUTSIDE if pattern.search(line)]
        if not name.startswith("docs/") and UI_MD.search(line):
            reasons.append("ui.md outside docs/ (write docs/ui.md)")
        found += [f"{name}:{number}: {why}: {line.strip()[:100]}" for why in reasons]
    return found


def test_no_tracked_file_cites_a_document_outside_the_repository() -> None:
    files = tracked_text_files()
    checked, found = 0, []
    for name in files:
        try:
            text = (ROOT / name).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # images, icons, fonts
        checked += 1
        found += citations_outside(name, text)
    assert checked > 300 and "sync/engine.py" in files and "docs/engine.md" in files  # not vacuous
    assert found == [], "cite the repository's own docs/ instead:\n" + "\n".join(found)


def test_the_rule_catches_each_kind_and_allows_our_docs() -> None:
    caught = [
        "# the batch size (design.md §5)",
        "# who answers (design §4)",
        "# the weight constant of the reference §1.5",
        "Contract: reference/manager-laravel.md §1",
        "# see ../shared/ui.md",
        "# ui.md: Producción red",
        "# what issue 6 §7 asked for",
        "# fixed in #13",
        "(python-stack-evaluation.md §7)",
        "(reference A.16 item 11)",
        "# /status needs no token (manager-laravel §1.2)",
        "the listing (§1.4)",
    ]
    for line in caught:
        assert citations_outside("sync/x.py", line), line
    allowed = [
        '# the batch size (docs/engine.md, "Batches")',
        '# Producción red (docs/ui.md, "States")',
        'TARGET_COLORS = {"production": "#dc2626", "local": "#2563eb"}',
        "assert rows == 13  # issue-free",
        "on Windows, `docs/windows-acceptance.md` §6",
        "see [ui.md](ui.md)",
    ]
    assert citations_outside("sync/x.py", "\n".join(allowed[:5])) == []
    assert citations_outside("docs/architecture.md", allowed[5]) == []
