"""The catalog database: schema, engine, archive, diff-and-load, and query helpers."""
