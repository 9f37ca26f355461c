"""The benchmark of the sync server (make bench, make bench-smoke); docs/performance.md has the method."""
