"""Sync requests: the one-run-per-provider rule (409), launching, waiting, and the answers'
shapes. Independent of HTTP so it can be tested with a fake `runs`."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any, Mapping, Protocol

from catalog_pipeline.defs.outcome import sync_counts
from catalog_pipeline.defs.resources import ProviderApis
from catalog_pipeline.providers import ADAPTERS, PROVIDER_SLUGS

from .runs import LaunchError, RunSummary

DEFAULT_WAIT_TIMEOUT_SECONDS = 900.0


class Runs(Protocol):
    async def launch(self, provider: str, *, dry_run: bool, tags: dict[str, str]) -> str: ...
    def active_run_id(self, provider: str) -> str | None: ...
    def last_runs(self, providers: list[str]) -> Mapping[str, RunSummary]: ...
    async def wait(self, run_id: str, *, timeout: float) -> RunSummary | None: ...


@dataclass
class Answer:
    status_code: int
    body: dict[str, Any]


class UnknownProvider(Exception):
    pass


class ProviderBusy(Exception):
    def __init__(self, provider: str, run_id: str | None) -> None:
        super().__init__(provider, run_id)
        self.provider = provider
        self.run_id = run_id


class SyncService:
    def __init__(
        self, runs: Runs, *, wait_timeout: float = DEFAULT_WAIT_TIMEOUT_SECONDS, provider_apis: ProviderApis | None = None
    ) -> None:
        self.runs = runs
        self.provider_apis = provider_apis or ProviderApis()  # which keys are set, read at each request
        self.wait_timeout = wait_timeout
        self._guard = threading.Lock()
        self._launching: set[str] = set()

    async def start(self, provider: str, *, dry_run: bool, tags: dict[str, str]) -> str:
        """Queue a run of `provider`, unless one is queued, running, or being launched right now."""
        if provider not in ADAPTERS:
            raise UnknownProvider(provider)
        with self._guard:  # held for microseconds: claims the provider for this request
            if provider in self._launching:
                raise ProviderBusy(provider, None)
            self._launching.add(provider)
        try:
            active = await asyncio.to_thread(self.runs.active_run_id, provider)
            if active is not None:
                raise ProviderBusy(provider, active)
            return await self.runs.launch(provider, dry_run=dry_run, tags=tags)
        finally:
            with self._guard:
                self._launching.discard(provider)

    async def sync_provider(self, provider: str, *, dry_run: bool, wait: bool, tags: dict[str, str]) -> Answer:
        if provider not in ADAPTERS:
            return Answer(404, {
                "success": False,
                "message": f"unknown provider {provider!r}",
                "details": {"provider": provider, "known_providers": PROVIDER_SLUGS},
            })
        if reason := self.provider_apis.missing_key_reason(ADAPTERS[provider].SPEC):
            return Answer(422, {
                "success": False,
                "message": f"skipped: {reason}",
                "details": {"provider": provider, "skipped": True, "dry_run": dry_run},
            })
        try:
            run_id = await self.start(provider, dry_run=dry_run, tags=tags)
        except ProviderBusy as busy:
            return Answer(409, {
                "success": False,
                "message": _busy_message(busy),
                "details": {"provider": provider, "run_id": busy.run_id},
            })
        except LaunchError as exc:
            return Answer(503, {"success": False, "message": f"could not launch the run: {exc}", "details": {"provider": provider}})
        if not wait:
            return Answer(202, _queued(provider, run_id, dry_run))
        summary = await self.runs.wait(run_id, timeout=self.wait_timeout)
        result = provider_result(provider, run_id, summary, dry_run)
        status = {"succeeded": 200, "failed": 500}.get(result["status"], 202)
        return Answer(status, {"success": result["status"] != "failed", "message": result["message"], "details": _details(result)})

    async def sync_all(self, *, dry_run: bool, wait: bool, tags: dict[str, str]) -> Answer:
        async def launch(provider: str) -> dict[str, Any]:
            if reason := self.provider_apis.missing_key_reason(ADAPTERS[provider].SPEC):
                return {"provider": provider, "status": "skipped", "message": f"skipped: {reason}"}
            try:
                run_id = await self.start(provider, dry_run=dry_run, tags=tags)
            except ProviderBusy as busy:
                return {"provider": provider, "status": "already_running", "run_id": busy.run_id, "message": _busy_message(busy)}
            except LaunchError as exc:
                return {"provider": provider, "status": "failed", "message": f"could not launch the run: {exc}"}
            return {"provider": provider, "status": "queued", "run_id": run_id, "dry_run": dry_run}

        # Launches overlap (each asks the code server for an execution plan); results keep provider order.
        results: list[dict[str, Any]] = list(await asyncio.gather(*(launch(provider) for provider in ADAPTERS)))
        launched = [(entry, entry["provider"], entry["run_id"]) for entry in results if entry["status"] == "queued"]
        if wait and launched:
            summaries = await asyncio.gather(*(self.runs.wait(run_id, timeout=self.wait_timeout) for _, _, run_id in launched))
            for (entry, provider, run_id), summary in zip(launched, summaries):
                entry.clear()
                entry.update(provider_result(provider, run_id, summary, dry_run))
        counts = {status: sum(1 for r in results if r["status"] == status) for status in
                  ("succeeded", "queued", "running", "failed", "skipped", "already_running")}
        summary_line = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in counts.items() if n)
        verb = "Dry run of" if dry_run else "Sync of"
        return Answer(200 if wait else 202, {
            "success": counts["failed"] == 0,
            "message": f"{verb} {len(results)} providers: {summary_line or 'nothing to do'}",
            "details": {"dry_run": dry_run, "counts": counts, "providers": results},
        })


def provider_result(provider: str, run_id: str, summary: RunSummary | None, dry_run: bool) -> dict[str, Any]:
    """One provider's outcome: succeeded (with counts), failed (with the cause) or still running."""
    if summary is None or not summary.finished:
        status = summary.status if summary else "UNKNOWN"
        return {"provider": provider, "status": "running", "run_id": run_id, "run_status": status, "dry_run": dry_run,
                "message": f"run {run_id} is {status.lower()}; see GET /admin/model-sync/status"}
    if summary.status != "SUCCESS":
        message = summary.error or f"run {summary.status.lower()}"
        return {"provider": provider, "status": "failed", "run_id": run_id, "run_status": summary.status,
                "dry_run": dry_run, "message": message}
    return {"provider": provider, "status": "succeeded", "run_id": run_id, "run_status": summary.status,
            **sync_counts(summary.metadata)}


def _details(result: dict[str, Any]) -> dict[str, Any]:
    details = {key: value for key, value in result.items() if key not in ("message", "status")}
    # The fields operators script against come first.
    ordered = ("provider", "provider_id", "models_fetched", "models_transformed", "models_synced", "run_id")
    return {**{key: details[key] for key in ordered if key in details}, **details}


def _queued(provider: str, run_id: str, dry_run: bool) -> dict[str, Any]:
    what = "Dry run" if dry_run else "Sync"
    return {
        "success": True,
        "message": f"{what} of {provider} queued as run {run_id}",
        "details": {"provider": provider, "run_id": run_id, "run_status": "QUEUED", "dry_run": dry_run},
    }


def _busy_message(busy: ProviderBusy) -> str:
    where = f" (run {busy.run_id})" if busy.run_id else ""
    return f"a sync of {busy.provider} is already queued or running{where}"

