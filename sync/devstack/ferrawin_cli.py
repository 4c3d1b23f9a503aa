"""`ferrasync devstack ferrawin`: generate a demo FerraWin database, or apply an edit day to one."""

from __future__ import annotations

import argparse
import time

from sync.errors import ConfigError
from sync.ferrawin.urls import parse_database_url


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "ferrawin",
        help="generate a demo FerraWin database (SQLite or PostgreSQL), or apply an edit day to one",
        description="Generate demo FerraWin data deterministically from a seed, or (--edit) change an existing "
        "demo database like a working day does and write which codes an incremental sync must send.",
    )
    parser.add_argument("--db", required=True,
                        help="sqlite:///file.db, postgresql://user:pass@127.0.0.1/db or mssql://… (an empty database)")
    parser.add_argument("--planillas", type=int, default=300, help="number of planillas to generate (default 300)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--replace", action="store_true", help="drop existing FerraWin tables first")
    parser.add_argument("--manifest", help="write the manifest (where each quirk was planted) to this JSON file")
    parser.add_argument("--profile", choices=("exact", "sqlserver"), default="exact",
                        help="sqlserver: padded CHAR keys, case-insensitive collation, a memo column (PostgreSQL)")
    parser.add_argument("--edit", action="store_true", help="apply an edit day to an existing demo database")
    parser.add_argument("--truth", help="with --edit: JSON file for the codes a correct incremental sync must send")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # Imported here so that the rest of the CLI does not pay for the generator's imports.
    from sync.devstack.ferrawin_data import generate
    from sync.devstack.ferrawin_edit import edit_day

    label = parse_database_url(args.db).redacted()
    started = time.perf_counter()
    if args.edit:
        if not args.truth:
            raise ConfigError("--edit needs --truth FILE: where to write the codes a sync must send")
        truth = edit_day(args.db, args.seed)
        truth.write(args.truth)
        print(f"edit day (seed {args.seed}) applied to {label} in {time.perf_counter() - started:.1f} s: "
              f"{len(truth.nuevas)} nuevas, {len(truth.modificadas)} modificadas; truth in {args.truth}")
        return 0
    if args.truth:
        raise ConfigError("--truth only makes sense with --edit")
    manifest = generate(args.db, args.planillas, args.seed, replace=args.replace, profile=args.profile)
    if args.manifest:
        manifest.write(args.manifest)
    rows = ", ".join(f"{table} {count}" for table, count in manifest.rows.items())
    print(f"generated {args.planillas} planillas (seed {args.seed}) into {label} "
          f"in {time.perf_counter() - started:.1f} s: {rows}")
    return 0
