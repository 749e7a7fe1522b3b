"""An optional LLM's vote on an incident: is it a false positive? Any OpenAI-compatible
chat-completions endpoint (a named connection), asked for a JSON-schema answer that is
validated; a timeout, an error status or an answer out of shape is an LlmError, and
triage goes on without the vote.

The prompt carries only the incident's descriptive fields, cut to size, with anything
that looks like a credential replaced by [redacted]. The API key travels in the
Authorization header only; no message or log ever quotes it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

VOTE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "verdict": {"type": "string", "enum": ["false_positive", "true_positive", "uncertain"]},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "reason": {"type": "string", "maxLength": 300},
    },
    "required": ["verdict", "confidence", "reason"],
    "additionalProperties": False,
}
PROMPT_FIELDS = ("title", "description", "service", "source_type", "severity", "environment")
_FIELD_LIMIT = 2000
_SYSTEM = (
    "You triage monitoring alerts for on-call engineers. Decide whether the incident is a "
    "false positive (noise: test, synthetic, flapping, non-production, duplicate, expected "
    "during maintenance) or a real incident needing a person. Answer with the JSON schema "
    "given; say uncertain when the text does not tell."
)
_SECRETS = [
    re.compile(
        r"(?i)\b([\w.-]*(?:password|passwd|secret|token|api[_-]?key|apikey|authorization|"
        r"credential)[\w.-]*)(\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|(?:bearer|basic)\s+\S+|\S+)"
    ),
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://)[^\s/@:]+:[^\s/@]+@"),
    re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    re.compile(r"\b[A-Za-z0-9+/_-]{32,}={0,2}"),
]


@dataclass(frozen=True)
class LlmEndpoint:
    base_url: str
    model: str
    api_key: str | None = None
    timeout_seconds: float = 10.0

    def __repr__(self) -> str:  # never print the key
        return f"LlmEndpoint(base_url={self.base_url!r}, model={self.model!r})"


class LlmVote(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    verdict: Literal["false_positive", "true_positive", "uncertain"]
    confidence: float = Field(ge=0, le=1)
    reason: str = Field(max_length=300)


class LlmError(Exception):
    """Why the LLM gave no usable vote; the message says what to do."""


def triage_prompt(incident: Mapping[str, Any]) -> list[dict[str, str]]:
    lines = [
        f"{field}: {redacted(str(value))[:_FIELD_LIMIT]}"
        for field in PROMPT_FIELDS
        if (value := incident.get(field)) not in (None, "")
    ]
    tags = [redacted(str(tag))[:100] for tag in incident.get("tags") or []][:20]
    if tags:
        lines.append(f"tags: {', '.join(tags)}")
    return [
        {"role": "system", "content": _SYSTEM},
        {"role": "user", "content": "\n".join(lines) or "(no details)"},
    ]


def redacted(text: str) -> str:
    text = _SECRETS[0].sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
    text = _SECRETS[1].sub(lambda m: f"{m.group(1)} [redacted]", text)
    text = _SECRETS[2].sub(lambda m: f"{m.group(1)}[redacted]@", text)
    for pattern in _SECRETS[3:]:
        text = pattern.sub("[redacted]", text)
    return text


async def llm_vote(
    endpoint: LlmEndpoint,
    incident: Mapping[str, Any],
    *,
    client: httpx.AsyncClient | None = None,
) -> LlmVote:
    body = {
        "model": endpoint.model,
        "messages": triage_prompt(incident),
        "temperature": 0,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "triage_vote", "strict": True, "schema": VOTE_SCHEMA},
        },
    }
    if client is None:
        async with httpx.AsyncClient(timeout=endpoint.timeout_seconds) as own:
            return await _ask(own, endpoint, body)
    return await _ask(client, endpoint, body)


async def _ask(http: httpx.AsyncClient, endpoint: LlmEndpoint, body: dict[str, Any]) -> LlmVote:
    headers = {"Authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}
    url = endpoint.base_url.rstrip("/") + "/chat/completions"
    try:
        response = await http.post(
            url, json=body, headers=headers, timeout=endpoint.timeout_seconds
        )
    except httpx.TimeoutException:
        raise LlmError(
            f"no answer within {endpoint.timeout_seconds:g} s; raise the connection's "
            "timeout_seconds or check the endpoint"
        ) from None
    except httpx.HTTPError as err:
        raise LlmError(f"cannot reach {url}: {type(err).__name__}") from None
    return _vote(response)


def _vote(response: httpx.Response) -> LlmVote:
    if response.status_code in (401, 403):
        raise LlmError(f"refused with {response.status_code}: check the connection's api_key")
    if response.status_code >= 300:
        raise LlmError(f"answered {response.status_code}; check the endpoint and model")
    try:
        content = response.json()["choices"][0]["message"]["content"]
        answer = json.loads(content)
    except (ValueError, KeyError, IndexError, TypeError):
        raise LlmError("answered no JSON vote in choices[0].message.content") from None
    try:
        return LlmVote.model_validate(answer)
    except ValidationError as err:
        problem = err.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "answer"
        raise LlmError(f"answered out of shape: {where}: {problem['msg']}") from None
