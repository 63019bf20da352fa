"""The command-line entry points: `sync-models` writes the catalog, `catalog` reads and operates it."""
