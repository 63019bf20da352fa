"""`catalog-server`: the admin HTTP API and the Dagster UI in one process, both behind ADMIN_API_KEY.

- `auth`: the pure-ASGI key check (http and websocket scopes)
- `app`: the admin routes and the dispatch of everything else to the Dagster UI
- `syncs`: one run per provider (409), launching, waiting, the answers' shapes
- `runs`: launching runs through the UI's GraphQL API in process; reading runs from the instance
- `status`: what /providers and /status report
- `openapi`, `secrets` (redaction), `daemon` (the dagster-daemon child), `dagster_internals`
  (the only underscore-Dagster imports), `cli` (`main`, the console script); DAGSTER_HOME,
  dagster.yaml and the workspace file are prepared by `catalog_pipeline.instance`
"""
