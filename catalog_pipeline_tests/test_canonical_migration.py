"""Revision 0003 on an earlier catalog: priced rows were the providers' own prices, nothing is linked yet."""

import pytest
from sqlalchemy import select, text

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.schema import canonical_models, models

from .legacy_catalogs import LEGACY_VERSIONS, PRICES, create_legacy_catalog

pytestmark = pytest.mark.empty_database  # an earlier catalog is built from nothing


@pytest.mark.parametrize("version", LEGACY_VERSIONS)
def test_priced_rows_are_marked_as_the_providers_own_prices(catalog_url, version):
    create_legacy_catalog(catalog_url, version)
    with catalog_engine(catalog_url, upgrade=False).begin() as conn:
        cleared = ", ".join(f"{column} = NULL" for column in PRICES)
        conn.execute(text(f"UPDATE models SET {cleared} WHERE provider_model_id = 'acme/retired'"))
    engine = catalog_engine(catalog_url)
    with engine.connect() as conn:
        rows = {r.provider_model_id: r for r in conn.execute(select(models))}
        assert conn.execute(select(canonical_models)).all() == []
    unpriced = rows.pop("acme/retired")
    assert (unpriced.price_source, unpriced.price_observed_at) == (None, None)
    assert {r.price_source for r in rows.values()} == {"provider"}
    assert all(r.price_observed_at == r.updated_at for r in rows.values())
    assert all(r.canonical_model_id is None and r.match_method is None for r in rows.values())
