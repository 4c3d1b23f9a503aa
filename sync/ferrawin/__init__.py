"""The FerraWin source: connection URLs, dialects, queries, payload building, detection."""
