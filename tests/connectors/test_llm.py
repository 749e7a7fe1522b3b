"""The LLM vote against a fake OpenAI-compatible endpoint: a JSON-schema answer, validated;
no secret in the prompt; the key only in the header; every failure a clear LlmError."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from connectors.llm import VOTE_SCHEMA, LlmEndpoint, LlmError, llm_vote, triage_prompt
from tests.fakes.llm_server import FakeLlm

KEY = "sk-test-Zq81-unique-llm-key"


@pytest.fixture
def fake_llm() -> Iterator[FakeLlm]:
    with FakeLlm() as fake:
        yield fake


def endpoint(fake: FakeLlm, **fields: object) -> LlmEndpoint:
    return LlmEndpoint(base_url=fake.base_url, model="triage-mini", api_key=KEY, **fields)  # type: ignore[arg-type]


INCIDENT = {"title": "Canary probe failed", "service": "checkout", "severity": "SEV3"}


async def test_a_valid_vote_is_returned_and_the_request_is_shaped_for_it(
    fake_llm: FakeLlm,
) -> None:
    fake_llm.answer_vote("false_positive", 0.8, "a canary")

    vote = await llm_vote(endpoint(fake_llm), INCIDENT)

    assert (vote.verdict, vote.confidence, vote.reason) == ("false_positive", 0.8, "a canary")
    [request] = fake_llm.requests
    body = request.json()
    assert body["model"] == "triage-mini"
    assert body["response_format"]["json_schema"]["schema"] == VOTE_SCHEMA
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in request.text
    assert "Canary probe failed" in body["messages"][1]["content"]


async def test_no_key_sends_no_authorization(fake_llm: FakeLlm) -> None:
    fake_llm.answer_vote("uncertain", 0.5)
    await llm_vote(LlmEndpoint(base_url=fake_llm.base_url, model="m"), INCIDENT)
    assert "authorization" not in fake_llm.requests[0].headers


def test_secrets_in_the_incident_never_reach_the_prompt() -> None:
    description = (
        "login fails; password=hunter2 and Authorization: Bearer abc.def.ghi123 "
        "from https://ops:pw123@db.internal/x with AKIAIOSFODNN7EXAMPLE and token "
        "0123456789abcdef0123456789abcdef01234567 after deploy"
    )
    prompt = json.dumps(triage_prompt({**INCIDENT, "description": description}))

    for secret in (
        "hunter2",
        "abc.def.ghi123",
        "pw123",
        "AKIAIOSFODNN7EXAMPLE",
        "0123456789abcdef",
    ):
        assert secret not in prompt
    for kept in ("login fails", "after deploy", "db.internal", "Canary probe failed"):
        assert kept in prompt
    assert "[redacted]" in prompt


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ("not json", "no JSON vote"),
        ('{"verdict": "maybe", "confidence": 0.5, "reason": "x"}', "verdict"),
        ('{"verdict": "uncertain", "confidence": 1.5, "reason": "x"}', "confidence"),
        ('{"verdict": "uncertain", "confidence": 0.5, "reason": "x", "extra": 1}', "extra"),
    ],
)
async def test_an_answer_out_of_shape_is_an_error_naming_it(
    fake_llm: FakeLlm, content: str, named: str
) -> None:
    fake_llm.answer_content(content)
    with pytest.raises(LlmError, match=named):
        await llm_vote(endpoint(fake_llm), INCIDENT)


async def test_an_error_status_is_named_and_a_refusal_points_at_the_key(
    fake_llm: FakeLlm,
) -> None:
    fake_llm.answer_status(500)
    fake_llm.answer_status(401)

    with pytest.raises(LlmError, match="500") as failed:
        await llm_vote(endpoint(fake_llm), INCIDENT)
    with pytest.raises(LlmError, match="api_key") as refused:
        await llm_vote(endpoint(fake_llm), INCIDENT)

    assert KEY not in str(failed.value) + str(refused.value)


async def test_a_slow_answer_times_out_with_the_limit_named(fake_llm: FakeLlm) -> None:
    fake_llm.answer_content('{"verdict": "uncertain", "confidence": 0.5, "reason": "x"}', delay=2)
    with pytest.raises(LlmError, match=r"within 0\.3 s"):
        await llm_vote(endpoint(fake_llm, timeout_seconds=0.3), INCIDENT)


def test_the_endpoint_never_prints_its_key(fake_llm: FakeLlm) -> None:
    assert KEY not in repr(endpoint(fake_llm))
