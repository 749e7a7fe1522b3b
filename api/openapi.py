"""The OpenAPI document says what a refusal looks like.

FastAPI documents only its own 422 (`detail`: a list of field problems). Our refusals
(api/errors.py) also answer `{"detail": "what to do"}`, with 422 and every other 4xx:
the document says so, so a client generated from it parses both."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

REFUSAL = "Refusal"
REFUSAL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": REFUSAL,
    "required": ["detail"],
    "properties": {
        "detail": {
            "anyOf": [
                {"type": "string", "description": "Why, and what to do"},
                {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}},
            ]
        }
    },
}


def document_refusals(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _with_refusals(
                get_openapi(
                    title=app.title, version=app.version, summary=app.summary, routes=app.routes
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _with_refusals(document: dict[str, Any]) -> dict[str, Any]:
    document.setdefault("components", {}).setdefault("schemas", {})[REFUSAL] = REFUSAL_SCHEMA
    refusal = {"application/json": {"schema": {"$ref": f"#/components/schemas/{REFUSAL}"}}}
    for item in document.get("paths", {}).values():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"]["content"] = refusal
            responses.setdefault(
                "4XX", {"description": "Refused: `detail` says why", "content": refusal}
            )
    return document
