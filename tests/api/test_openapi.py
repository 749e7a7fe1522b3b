"""The OpenAPI document describes our refusals as they are sent (api/openapi.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest

from api.app import create_app
from core.settings import Settings


@pytest.fixture
def document(tmp_path: Path) -> dict[str, Any]:
    """The whole API's document (no server needed: nothing is opened to build it)."""
    return create_app(Settings(data_dir=tmp_path)).openapi()


def test_every_operation_documents_its_refusals_with_the_refusal_shape(
    document: dict[str, Any],
) -> None:
    refusal = {"$ref": "#/components/schemas/Refusal"}
    operations = [op for item in document["paths"].values() for op in item.values()]
    assert len(operations) > 60
    for operation in operations:
        assert "4XX" in operation["responses"], operation["operationId"]
        for status, response in operation["responses"].items():
            if status in ("422", "4XX"):
                assert response["content"]["application/json"]["schema"] == refusal, operation


def test_both_kinds_of_refusal_match_the_documented_shape(document: dict[str, Any]) -> None:
    schema = {**document["components"]["schemas"]["Refusal"], "components": document["components"]}
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate({"detail": "cursor is not valid; pass next_cursor unchanged"})
    validator.validate(
        {"detail": [{"loc": ["body", "title"], "msg": "Field required", "type": "missing"}]}
    )
    assert not validator.is_valid({"detail": 42})
    assert not validator.is_valid({"message": "no detail"})
