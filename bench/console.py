"""The console's incidents page against the JSON list it is built on: `python -m bench.console`.

An org with N incidents (10,000 by default, ingested in batches into SQLite) and the
real application in process (ASGI, no network): the server time of `GET /` (the page a
signed-in person sees, 50 rows) beside `GET /v1/incidents?limit=50` (the same rows as
JSON), p50/p99 over R requests each, interleaved. Prints the ratio last; exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from api.auth import issue_token
from api.state import AppState
from bench.processes import JWT_SECRET, percentile
from console.app import create_app
from console.session import COOKIE
from core.settings import Settings
from ingest.model import GenericIncident
from services.ingestion import IngestService
from services.users import UserService
from store.db import Database

ORG = "bench"
PERSON = "viewer@bench.test"  # the console checks the account on every page
BATCH = 500


async def populate(db: Database, count: int) -> None:
    service = IngestService(db)
    start = datetime.now(UTC).isoformat()
    for first in range(0, count, BATCH):
        batch = [
            GenericIncident.model_validate(
                {
                    "sourceType": "CUSTOM",
                    "sourceRef": f"bench-{n}",
                    "title": f"Disk usage above 9{n % 10}% on db-{n % 97}",
                    "timeline": {"start": start},
                    "metadata": {"service": f"svc-{n % 13}"},
                }
            )
            for n in range(first, min(first + BATCH, count))
        ]
        await service.ingest_many(org_id=ORG, actor="bench", incidents=batch)
        print(f"  {min(first + BATCH, count)}/{count} incidents", flush=True)


async def measure(count: int, requests: int) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), jwt_secret=JWT_SECRET)
        db = Database(settings.resolved_database_url)
        await db.migrate()
        await populate(db, count)
        app = create_app(settings)
        app.state.fireline = AppState(settings=settings, db=db, jwt_secret=JWT_SECRET)
        await UserService(db).add(org_id=ORG, email=PERSON, role="VIEWER", password=None)
        token = issue_token(JWT_SECRET, org=ORG, roles=["VIEWER"], sub=PERSON)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for _ in range(5):  # warm-up: templates compile, caches fill
                await http.get("/", cookies={COOKIE: token})
            page, json = [], []
            for _ in range(requests):
                page.append(await _timed(http.get("/", cookies={COOKIE: token})))
                json.append(
                    await _timed(
                        http.get(
                            "/v1/incidents",
                            params={"limit": 50},
                            headers={"Authorization": f"Bearer {token}"},
                        )
                    )
                )
        await db.dispose()
    return page, json


async def _timed(request: object) -> float:
    started = time.perf_counter()
    response = await request  # type: ignore[misc]
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text[:200]
    return elapsed


def main(count: int, requests: int) -> None:
    print(f"populating {count} incidents…", flush=True)
    page, json = asyncio.run(measure(count, requests))
    ms = {name: [v * 1000 for v in values] for name, values in (("page", page), ("json", json))}
    for name, values in ms.items():
        label = "GET / (console page)" if name == "page" else "GET /v1/incidents?limit=50"
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        print(f"{label:<30} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms")
    print(
        f"ratio page/json: p50 {percentile(ms['page'], 0.5) / percentile(ms['json'], 0.5):.2f}x"
        f"  p99 {percentile(ms['page'], 0.99) / percentile(ms['json'], 0.99):.2f}x"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--incidents", type=int, default=10_000)
    parser.add_argument("-r", "--requests", type=int, default=100)
    arguments = parser.parse_args()
    main(arguments.incidents, arguments.requests)
