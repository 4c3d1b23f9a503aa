"""The read-only looks at FerraWin and Manager, wired to the settings: one planilla explained, all
planillas reconciled. `ferrasync explain`/`reconcile` (sync/reconcile_cli.py) and the agent's remote
commands run these; neither sends a batch nor takes the run lock (docs/engine.md, "Reconcile and explain")."""

from __future__ import annotations

from sync.config.model import Settings
from sync.explain import Explanation, explain
from sync.journal import Journal
from sync.reconcile import Reconciliation, classify, read_ferrawin
from sync.request import parse_target
from sync.runsetup import JOURNAL_NAME, manager_client


def explain_planilla(settings: Settings, target: str, codigo: str) -> Explanation:
    """One planilla explained (codigo already padded): FerraWin, Manager, the run's decision, the journal."""
    from sync.ferrawin.source import open_source

    client = manager_client(settings, parse_target(target))
    source = open_source(settings.ferrawin_database())
    journal = Journal(settings.home / JOURNAL_NAME)
    try:
        return explain(source, client.existing_codes, journal, codigo)
    finally:
        source.close()
        client.close()
        journal.close()


def reconcile_all(settings: Settings, target: str) -> Reconciliation:
    """Every planilla of both sides sorted; nothing is sent nor locked."""
    from sync.ferrawin.source import open_source

    client = manager_client(settings, parse_target(target))
    source = open_source(settings.ferrawin_database())
    try:
        manager = client.existing_codes()
        return classify(read_ferrawin(source, settings.home), manager)
    finally:
        source.close()
        client.close()
