"""Payloads and runs for the across-provider tests: one model (Llama 3.3 70B Instruct) sold under
different ids by Groq, Novita, OpenRouter and the Hugging Face router, with the router quoting
Groq's, Cerebras's and Novita's prices. Prices here are fixture values, in each API's own unit."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg

from catalog_pipeline.defs.cross_provider import CROSS_PROVIDER_ASSETS, CatalogExport
from catalog_pipeline.defs.resources import CatalogDatabase

from .conftest import FIXTURES
from .http_server import FixtureServer, json_reply

LLAMA_HF_ID = "meta-llama/Llama-3.3-70B-Instruct"


def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def router_offer(provider: str, input_per_m: Any, output_per_m: Any, status: str = "live") -> dict[str, Any]:
    return {"provider": provider, "status": status, "context_length": 131072,
            "pricing": {"input": input_per_m, "output": output_per_m}, "is_free": False, "supports_tools": True}


def router_payload(offers_by_model: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    template = _fixture("huggingface_models.json")["data"][0]
    data = []
    for hf_id, offers in offers_by_model.items():
        entry = copy.deepcopy(template)
        entry.update(id=hf_id, owned_by=hf_id.split("/")[0], providers=offers)
        data.append(entry)
    return {"object": "list", "data": data}


def default_router_payload(groq_input: Any = 0.59, groq_output: Any = 0.79) -> dict[str, Any]:
    return router_payload({
        LLAMA_HF_ID: [
            router_offer("groq", groq_input, groq_output),
            router_offer("cerebras", 0.85, 1.2),
            router_offer("novita", 0.13, 0.39),
            {"provider": "together", "status": "error", "is_free": False},
        ],
    })


def groq_payload() -> dict[str, Any]:
    """The project's Groq fixture: llama-3.3-70b-versatile and openai/gpt-oss-120b (curated
    aliases), whisper-large-v3 (curated, no router offer), playai-tts and mixtral (no alias)."""
    return _fixture("groq_models.json")


def novita_payload(input_units: int = 1300, output_units: int = 3900) -> dict[str, Any]:
    """Novita's own price for the model (1e-10 USD per token units: 1300 = 0.13 USD per 1M)."""
    entry = copy.deepcopy(_fixture("novita_models.json")["data"][0])
    entry.update(id="meta-llama/llama-3.3-70b-instruct", title="meta-llama/llama-3.3-70b-instruct",
                 display_name="Llama 3.3 70B Instruct", input_token_price_per_m=input_units,
                 output_token_price_per_m=output_units)
    entry.pop("cached_input_token_price_per_m", None)
    return {"data": [entry]}


def novita_fixture_payload(extra: list[dict[str, Any]] = (), price: int | None = None) -> dict[str, Any]:
    """Novita's whole fixture list; `price` replaces its first model's input price (1e-10 USD per
    token units), and each of `extra` adds a copy of its second model with those fields."""
    payload = copy.deepcopy(_fixture("novita_models.json"))
    if price is not None:
        payload["data"][0]["input_token_price_per_m"] = price
    for fields in extra:
        entry = copy.deepcopy(payload["data"][1])
        entry.update(fields)
        payload["data"].append(entry)
    return payload


def openrouter_payload() -> dict[str, Any]:
    entry = copy.deepcopy(_fixture("openrouter_models.json")["data"][0])
    entry.update(id="meta-llama/llama-3.3-70b-instruct", name="Meta: Llama 3.3 70B Instruct",
                 canonical_slug="meta-llama/llama-3.3-70b-instruct", hugging_face_id=LLAMA_HF_ID)
    entry["pricing"] = {"prompt": "0.0000001", "completion": "0.00000032"}
    return {"data": [entry]}


def serve(server: FixtureServer, slug: str, payload: Any, path: str = "/models") -> None:
    server.route(f"/{slug}{path}", json_reply(payload))


def materialize_cross_provider(
    database_url: str, export_dir: Path | None = None, instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        CROSS_PROVIDER_ASSETS,
        resources={"catalog_db": CatalogDatabase(url=database_url),
                   "catalog_export_files": CatalogExport(directory=str(export_dir) if export_dir else None)},
        instance=instance or dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def check_result(result: dg.ExecuteInProcessResult, check_name: str):
    (evaluation,) = [e for e in result.get_asset_check_evaluations() if e.check_name == check_name]
    return evaluation


def per_million(value: str) -> Decimal:
    return Decimal(value).scaleb(-6)
