"""`catalog-server`: the admin HTTP API and the Dagster UI in one process, both behind ADMIN_API_KEY.

- `app`: Starlette routing: /admin to the admin API, everything else to the Dagster UI, behind
  `auth` (the pure-ASGI key check, http and websocket) and `access_log` (paths, never queries)
- `admin_api`: the FastAPI app under /admin, built from `routes/` (one module per route family),
  `schemas` (response models, hence the OpenAPI document), `params` (strict query parameters)
  and `api_reference` (the /admin/docs page)
- `syncs`: one run per provider (409), launching, waiting, the answers' shapes
- `runs`: launching runs through the UI's GraphQL API in process; reading runs from the instance
- `status`: what /providers and /status report, and the short-lived snapshot they share
- `change_feed`: what /changes reports (the catalog's change feed, one page per request)
- `secrets` (redaction), `daemon` (the dagster-daemon child), `dagster_internals` (the only
  underscore-Dagster imports), `cli` (`main`, the console script); DAGSTER_HOME, dagster.yaml
  and the workspace file are prepared by `catalog_pipeline.instance`
"""
