"""The admin API's routes, one module per route family, each an `APIRouter` whose paths are
relative to /admin. To add a family: write its module and list its router here."""

from __future__ import annotations

from . import catalog, changes, docs, model_sync, offers

ROUTERS = [model_sync.router, catalog.router, changes.router, offers.router, docs.router]
