"""`fireline api` and `fireline worker`: run one part against an existing Temporal."""

from __future__ import annotations

import asyncio
import contextlib

import uvicorn

from core.logging import configure_logging
from core.settings import Settings


def serve_api() -> None:
    from console.app import create_app

    settings = Settings()
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=5,
    )


def serve_worker() -> None:
    from worker import run_worker

    settings = Settings()
    configure_logging(settings.log_level)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_worker(settings))
