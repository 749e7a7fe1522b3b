"""Checks on request bodies shared by the JSON routes."""

from __future__ import annotations

from fastapi import Request

from ingest.jsonbody import check_json_content_type


async def require_json_content_type(request: Request) -> None:
    """415 for a body sent as anything but JSON, before the body is validated: a form or
    text body would otherwise be answered with a confusing 422 about its fields."""
    has_body = request.headers.get("content-length", "0") != "0" or (
        "transfer-encoding" in request.headers
    )
    if has_body:
        check_json_content_type(request.headers.get("content-type"))
