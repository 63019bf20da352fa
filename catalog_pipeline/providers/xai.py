"""xAI: `GET /language-models` (the priced list, `{"models": [...]}`), key required; prices are
integers in 1e-10 USD per token (30000 = USD 3 per 1M tokens = 0.000003 USD per token). Aliases
(`grok-4` -> `grok-4-0709`) stay in metadata rather than becoming extra rows, since they name the
same model and move between versions; long-context tiers, the image-token price and `search_price`
(same scale, per search) go to metadata converted to USD. The unpriced `/v1/models` shape
(`{"data": [...]}`) is read too, as rows without prices. Unverified: no real `/language-models`
body was found; its shape and unit come from xAI's documented example (grok-3 at 30000/150000).
"""

from __future__ import annotations

from typing import Any

from catalog_pipeline.pipeline.modalities import modality_fields, string_list
from catalog_pipeline.pipeline.money import parse_price, scaled
from catalog_pipeline.pipeline.normalize import Pages, extract_entries
from catalog_pipeline.pipeline.records import ModelRecord
from catalog_pipeline.pipeline.spec import ProviderSpec

SPEC = ProviderSpec(
    slug="xai",
    name="xAI",
    base_url="https://api.x.ai/v1",
    kind="text",
    key_required=True,
    endpoint_path="/language-models",
    price_unit="integer, 1e-10 USD per token (search_price: per search)",
    list_path=("models",),
)

_MAPPED_PRICES = {"prompt_text_token_price", "completion_text_token_price", "cached_prompt_text_token_price"}
_METADATA_KEYS = ("aliases", "fingerprint", "version", "created", "owned_by", "long_context_threshold")


def entries(pages: Pages) -> list[Any]:
    found: list[Any] = []
    for url, payload in pages:
        # The unpriced /v1/models list wraps the same ids in "data".
        legacy = isinstance(payload, dict) and "models" not in payload and "data" in payload
        found.extend(extract_entries(payload, ("data",) if legacy else SPEC.list_path, url=url))
    return found


def _price(entry: dict[str, Any], key: str):
    # xAI quotes integer units of 1e-10 USD per token (per search for search_price).
    return scaled(parse_price(entry.get(key), field=key), -10)


def transform(entry: dict[str, Any]) -> ModelRecord:
    inputs = string_list(entry.get("input_modalities"))
    outputs = string_list(entry.get("output_modalities"))
    extra_prices = {
        key: _price(entry, key)
        for key in entry
        if key.endswith(("_price", "_price_long_context")) and key not in _MAPPED_PRICES
    }
    return ModelRecord(
        provider_model_id=entry["id"],
        pricing_prompt=_price(entry, "prompt_text_token_price"),
        pricing_completion=_price(entry, "completion_text_token_price"),
        pricing_cache_read=_price(entry, "cached_prompt_text_token_price"),
        context_length=entry.get("context_length") or entry.get("max_prompt_length"),
        **modality_fields(inputs, outputs),
        # Only the 2026-09 /v1/models docs show `capabilities.reasoning_effort`; absent = unknown.
        supports_reasoning=True if "reasoning_effort" in (entry.get("capabilities") or {}) else None,
        metadata={key: entry[key] for key in _METADATA_KEYS if key in entry}
        # Converted to USD per token (search_price: USD per search).
        | ({"other_prices_usd": extra_prices} if extra_prices else {}),
    )
