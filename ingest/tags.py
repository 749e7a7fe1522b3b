"""Incident tags as ingestion accepts them: a list of tags, or an object of key -> value.

The ingestion guide sends `metadata.tags` as `Record<string, string>`; CSV rows and the
vendor mappings send a list. Both end as a list: an object's entries become "key:value"
tags, sorted by key so that the same object always gives the same list. A number or a
boolean value is taken as its JSON text (`{"priority": 2, "canary": true}` → `priority:2`,
`canary:true`): integrations built on the guide often send them, and the text is exact.
Anything else (null, a list, an object) is refused at `metadata.tags.<key>`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StringConstraints, TypeAdapter, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

MAX_TAGS = 50
MAX_TAG_LENGTH = 200  # the whole tag, "key:value" included (as a tag added by a person)
MAX_TAG_KEY_LENGTH = 100


def _scalar_text(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    raise PydanticCustomError(
        "tag_value_type",
        "a tag value must be text, a number or true/false, not {kind}",
        {"kind": _json_kind(value)},
    )


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


Tag = Annotated[str, StringConstraints(max_length=MAX_TAG_LENGTH)]
TagKey = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TAG_KEY_LENGTH)]
TagValue = Annotated[str, BeforeValidator(_scalar_text)]
TagObject = Annotated[dict[TagKey, TagValue], Field(max_length=MAX_TAGS)]

_TAG_OBJECT: TypeAdapter[dict[str, str]] = TypeAdapter(TagObject)


def tags_from_object(value: Any) -> Any:
    """The "key:value" tags of an object; a list is left to the field's own validation.

    Errors raised here keep their location under the field (`metadata.tags.<key>`).
    """
    if isinstance(value, list):
        return value
    if not isinstance(value, Mapping):
        raise PydanticCustomError(
            "tags_type", "Input should be a list of tags or an object of key to value"
        )
    entries = _TAG_OBJECT.validate_python(value)
    tags = {key: f"{key}:{text}" for key, text in sorted(entries.items())}
    too_long = [
        _too_long(key, value[key], tag) for key, tag in tags.items() if len(tag) > MAX_TAG_LENGTH
    ]
    if too_long:
        raise ValidationError.from_exception_data("tags", too_long)
    return list(tags.values())


def _too_long(key: str, sent: Any, tag: str) -> InitErrorDetails:
    return {
        "type": PydanticCustomError(
            "tag_too_long",
            "the tag 'key:value' would be {length} characters; at most {limit} are allowed",
            {"length": len(tag), "limit": MAX_TAG_LENGTH},
        ),
        "loc": (key,),
        "input": sent,
    }
