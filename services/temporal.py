"""Connecting to Temporal with the converter every part of Fireline uses."""

from __future__ import annotations

import asyncio

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from core.settings import Settings


async def connect(settings: Settings, *, wait_seconds: float = 0) -> Client:
    """Connect, retrying for up to `wait_seconds` while the server starts."""
    address = settings.resolved_temporal_address
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        try:
            return await Client.connect(
                address,
                namespace=settings.temporal_namespace,
                data_converter=pydantic_data_converter,
            )
        except (RuntimeError, RPCError) as err:
            if asyncio.get_running_loop().time() >= deadline:
                raise RuntimeError(
                    f"cannot reach Temporal at {address} ({err}); start it with "
                    "`make up` or set FIRELINE_TEMPORAL_ADDRESS"
                ) from err
            await asyncio.sleep(0.5)


def visibility_literal(value: str) -> str:
    """`value` as a string literal of Temporal's visibility query language: quoted, with
    its backslashes and quotes escaped, so no value can end the literal early."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def ui_link(settings: Settings, workflow_id: str) -> str:
    from urllib.parse import quote

    base = settings.resolved_temporal_ui_url.rstrip("/")
    return (
        f"{base}/namespaces/{settings.temporal_namespace}/workflows/{quote(workflow_id, safe='')}"
    )
