"""`python -m desktop` = `ferrasync-control`."""

from desktop.cli import main

raise SystemExit(main())
