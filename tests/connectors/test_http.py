"""One HTTP request with `http_request` against HttpTarget."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import pytest

from connectors.errors import ConnectorError
from connectors.http import http_request
from tests.fakes.http_target import HttpTarget


async def test_a_json_answer_is_parsed(target: HttpTarget) -> None:
    target.set_reply("/api/status", json={"healthy": True, "checks": [1, 2]})

    result = await http_request(method="get", url=target.url + "/api/status")

    assert result["status_code"] == 200
    assert result["body"] == {"healthy": True, "checks": [1, 2]}
    assert result["headers"]["content-type"] == "application/json"


async def test_a_text_answer_is_returned_as_text(target: HttpTarget) -> None:
    target.set_reply("/ping", text="pong")

    result = await http_request(method="GET", url=target.url + "/ping")

    assert result["body"] == "pong"


async def test_the_request_carries_headers_params_and_json(target: HttpTarget) -> None:
    await http_request(
        method="POST",
        url=target.url + "/hooks/run",
        headers={"X-Api-Key": "k1"},
        params={"dry_run": "true"},
        json={"incident": "inc_1"},
    )

    [sent] = target.requests
    assert (sent.method, sent.path, sent.query) == ("POST", "/hooks/run", {"dry_run": ["true"]})
    assert sent.headers["x-api-key"] == "k1"
    assert sent.json() == {"incident": "inc_1"}


@pytest.mark.parametrize(
    ("body", "sent"),
    [({"a": 1}, b'{"a":1}'), ("raw text", b"raw text"), (b"\x00bytes", b"\x00bytes")],
    ids=["dict-as-json", "text", "bytes"],
)
async def test_a_body_is_sent_as_given_and_a_dict_as_json(
    target: HttpTarget, body: Any, sent: bytes
) -> None:
    await http_request(method="PUT", url=target.url + "/x", body=body)

    assert target.requests[0].body == sent


async def test_a_client_error_is_final_with_status_and_body(target: HttpTarget) -> None:
    target.set_reply("/api/items", 422, json={"detail": "name is required"})

    with pytest.raises(ConnectorError) as err:
        await http_request(method="POST", url=target.url + "/api/items", json={})

    assert (err.value.retryable, err.value.status_code) == (False, 422)
    assert f"POST {target.url}/api/items answered HTTP 422" in str(err.value)
    assert "name is required" in str(err.value)


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_server_errors_and_rate_limits_are_retryable(target: HttpTarget, status: int) -> None:
    target.set_reply("/flaky", status, text="try later")

    with pytest.raises(ConnectorError) as err:
        await http_request(method="GET", url=target.url + "/flaky")

    assert (err.value.retryable, err.value.status_code) == (True, status)


async def test_a_caller_can_opt_out_of_raising(target: HttpTarget) -> None:
    target.set_reply("/broken", 500, json={"error": "boom"})

    result = await http_request(method="GET", url=target.url + "/broken", raise_for_status=False)

    assert (result["status_code"], result["body"]) == (500, {"error": "boom"})


async def test_a_refused_connection_is_retryable(closed_port_url: str) -> None:
    with pytest.raises(ConnectorError) as err:
        await http_request(method="GET", url=closed_port_url + "/x")

    assert err.value.retryable
    assert f"GET {closed_port_url}/x failed" in str(err.value)


async def test_messages_leave_out_credentials_in_the_url(target: HttpTarget) -> None:
    target.set_reply("/private", 403, text="forbidden")
    host = target.url.removeprefix("http://")

    with pytest.raises(ConnectorError) as err:
        await http_request(method="GET", url=f"http://user:pa55@{host}/private?token=t0k3n")

    assert f"GET http://{host}/private answered HTTP 403" in str(err.value)
    assert "pa55" not in str(err.value)
    assert "t0k3n" not in str(err.value)


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"url": "ftp://example.com/x"}, "unsupported protocol 'ftp://'"),
        ({"url": "http://127.0.0.1/x", "body": "a", "json": {"b": 1}}, "either body or json"),
    ],
)
async def test_a_request_that_cannot_work_is_final(arguments: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConnectorError, match=problem) as err:
        await http_request(method="GET", **arguments)

    assert not err.value.retryable


async def test_a_gate_holds_the_request_until_released(target: HttpTarget) -> None:
    request = asyncio.create_task(http_request(method="GET", url=target.url + "/gate/edit-yaml"))

    assert await asyncio.to_thread(target.wait_arrived, "edit-yaml")
    await asyncio.sleep(0.05)
    assert not request.done()

    target.release("edit-yaml")
    result = await request

    assert result["body"] == {"gate": "edit-yaml", "released": True}


async def test_a_released_gate_stays_open(target: HttpTarget) -> None:
    target.release("open")

    result = await http_request(method="GET", url=target.url + "/gate/open", timeout=5)

    assert result["status_code"] == 200


async def test_an_untrusted_certificate_is_final_unless_verify_is_off(
    tls_context: ssl.SSLContext,
) -> None:
    with HttpTarget(ssl_context=tls_context) as https:
        with pytest.raises(ConnectorError, match="TLS verification failed") as err:
            await http_request(method="GET", url=https.url + "/x")
        unverified = await http_request(method="GET", url=https.url + "/x", verify=False)

    assert not err.value.retryable
    assert unverified["status_code"] == 200
