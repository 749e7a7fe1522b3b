"""Webhook signatures and credentials (ingest.auth): what passes, what fails and why."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping

import pytest

from ingest.auth import (
    AuthKind,
    WebhookAuth,
    WebhookAuthError,
    signing_scheme,
    verify,
)
from tests.conftest import FIXTURES

SECRET = "whsec-test-3f9a1c77"
OTHER_SECRET = "whsec-old-0b1e2d3c"
PAGERDUTY_BODY = (FIXTURES / "pagerduty-v3-incident.triggered.json").read_bytes()
GRAFANA_BODY = (FIXTURES / "grafana-firing.json").read_bytes()


def sign(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def refused(
    source: str,
    auth: WebhookAuth,
    *,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    body: bytes = b"{}",
) -> str:
    """The refusal message; it must never quote the secret or a presented credential."""
    headers, query = headers or {}, query or {}
    with pytest.raises(WebhookAuthError) as caught:
        verify(source, auth, headers, query, body)
    message = str(caught.value)
    assert SECRET not in message
    for presented in [*headers.values(), *query.values()]:
        if len(presented) >= 8:
            assert presented not in message
    return message


# --- none ----------------------------------------------------------------------------------


def test_an_endpoint_without_authentication_accepts_anything() -> None:
    verify("datadog", WebhookAuth(AuthKind.NONE), {}, {}, b"anything")


def test_a_kind_that_needs_a_secret_but_has_none_is_refused() -> None:
    message = refused("datadog", WebhookAuth(AuthKind.BEARER), headers={"authorization": "x y"})
    assert "no secret" in message


def test_the_repr_of_the_settings_hides_the_secret() -> None:
    assert SECRET not in repr(WebhookAuth(AuthKind.BEARER, secret=SECRET))


# --- PagerDuty v1 signatures --------------------------------------------------------------

PAGERDUTY = WebhookAuth(AuthKind.HMAC, secret=SECRET)


def pagerduty_headers(value: str) -> dict[str, str]:
    return {"x-pagerduty-signature": value, "content-type": "application/json"}


def test_a_pagerduty_signature_over_the_raw_fixture_body_passes() -> None:
    headers = pagerduty_headers(f"v1={sign(SECRET, PAGERDUTY_BODY)}")
    verify("pagerduty", PAGERDUTY, headers, {}, PAGERDUTY_BODY)


def test_one_changed_byte_of_the_body_fails_the_pagerduty_signature() -> None:
    headers = pagerduty_headers(f"v1={sign(SECRET, PAGERDUTY_BODY)}")
    index = PAGERDUTY_BODY.index(b"triggered")
    changed = PAGERDUTY_BODY[:index] + b"T" + PAGERDUTY_BODY[index + 1 :]
    message = refused("pagerduty", PAGERDUTY, headers=headers, body=changed)
    assert message == (
        "no v1 signature in X-PagerDuty-Signature matches the body "
        "(check the subscription's secret)"
    )


def test_the_signature_covers_the_raw_bytes_not_the_parsed_json() -> None:
    headers = pagerduty_headers(f"v1={sign(SECRET, PAGERDUTY_BODY)}")
    reserialised = json.dumps(json.loads(PAGERDUTY_BODY)).encode()
    assert reserialised != PAGERDUTY_BODY
    refused("pagerduty", PAGERDUTY, headers=headers, body=reserialised)


def test_a_signature_made_with_another_secret_fails() -> None:
    headers = pagerduty_headers(f"v1={sign(OTHER_SECRET, PAGERDUTY_BODY)}")
    assert "check the subscription's secret" in refused(
        "pagerduty", PAGERDUTY, headers=headers, body=PAGERDUTY_BODY
    )


@pytest.mark.parametrize(
    "template",
    ["v1={old},v1={new}", "v1={new},v1={old}", "v1={old}, v1={new}", " v1={new} ", "v1={NEW}"],
)
def test_during_a_rotation_any_matching_v1_value_passes(template: str) -> None:
    old, new = sign(OTHER_SECRET, PAGERDUTY_BODY), sign(SECRET, PAGERDUTY_BODY)
    value = template.format(old=old, new=new, NEW=new.upper())
    verify("pagerduty", PAGERDUTY, pagerduty_headers(value), {}, PAGERDUTY_BODY)


def test_when_no_v1_value_matches_the_rotation_header_fails() -> None:
    value = f"v1={sign(OTHER_SECRET, PAGERDUTY_BODY)},v1={'0' * 64}"
    refused("pagerduty", PAGERDUTY, headers=pagerduty_headers(value), body=PAGERDUTY_BODY)


def test_a_missing_pagerduty_signature_header_is_named() -> None:
    message = refused("pagerduty", PAGERDUTY, headers={"x-webhook-id": "abc"}, body=PAGERDUTY_BODY)
    assert message == "missing X-PagerDuty-Signature header"


@pytest.mark.parametrize(
    "value", ["", "sha256=abcdef", "v2=abcdef", "abcdef0123456789", ",", "V1=abcdef"]
)
def test_a_malformed_pagerduty_signature_header_says_what_is_expected(value: str) -> None:
    message = refused("pagerduty", PAGERDUTY, headers=pagerduty_headers(value), body=PAGERDUTY_BODY)
    assert message == "malformed X-PagerDuty-Signature header: expected v1=<hex HMAC-SHA256>"


def test_a_v1_value_that_is_not_hex_simply_does_not_match() -> None:
    value = "v1=\u00e9\u00e9\u00e9 not hex at all"
    message = refused("pagerduty", PAGERDUTY, headers=pagerduty_headers(value), body=PAGERDUTY_BODY)
    assert message.startswith("no v1 signature")


# --- Grafana HMAC -------------------------------------------------------------------------

GRAFANA = WebhookAuth(AuthKind.HMAC, secret=SECRET)
TIMESTAMP_HEADER = "X-Grafana-Alerting-Timestamp"
GRAFANA_WITH_TIMESTAMP = WebhookAuth(AuthKind.HMAC, secret=SECRET, header_name=TIMESTAMP_HEADER)


def test_a_grafana_signature_over_the_raw_body_passes() -> None:
    headers = {"x-grafana-alerting-signature": sign(SECRET, GRAFANA_BODY)}
    verify("grafana", GRAFANA, headers, {}, GRAFANA_BODY)


def test_a_grafana_signature_over_another_body_fails() -> None:
    headers = {"x-grafana-alerting-signature": sign(SECRET, GRAFANA_BODY)}
    message = refused("grafana", GRAFANA, headers=headers, body=GRAFANA_BODY + b" ")
    assert "X-Grafana-Alerting-Signature does not match the body" in message
    assert "no timestamp header" in message


def test_a_grafana_signature_has_no_prefix() -> None:
    headers = {"x-grafana-alerting-signature": "sha256=" + sign(SECRET, GRAFANA_BODY)}
    refused("grafana", GRAFANA, headers=headers, body=GRAFANA_BODY)


def test_a_missing_grafana_signature_header_is_named() -> None:
    assert refused("grafana", GRAFANA, body=GRAFANA_BODY) == (
        "missing X-Grafana-Alerting-Signature header"
    )


def test_with_a_timestamp_header_the_signed_input_is_timestamp_colon_body() -> None:
    headers = {
        "x-grafana-alerting-signature": sign(SECRET, b"1767225600:" + GRAFANA_BODY),
        "x-grafana-alerting-timestamp": "1767225600",
    }
    verify("grafana", GRAFANA_WITH_TIMESTAMP, headers, {}, GRAFANA_BODY)


def test_with_a_timestamp_header_a_signature_of_the_body_alone_fails() -> None:
    headers = {
        "x-grafana-alerting-signature": sign(SECRET, GRAFANA_BODY),
        "x-grafana-alerting-timestamp": "1767225600",
    }
    message = refused("grafana", GRAFANA_WITH_TIMESTAMP, headers=headers, body=GRAFANA_BODY)
    assert f"its timestamp header is {TIMESTAMP_HEADER}" in message


def test_a_changed_timestamp_fails_because_it_is_signed() -> None:
    headers = {
        "x-grafana-alerting-signature": sign(SECRET, b"1767225600:" + GRAFANA_BODY),
        "x-grafana-alerting-timestamp": "1767225601",
    }
    refused("grafana", GRAFANA_WITH_TIMESTAMP, headers=headers, body=GRAFANA_BODY)


def test_a_missing_timestamp_header_is_named() -> None:
    headers = {"x-grafana-alerting-signature": sign(SECRET, b"1767225600:" + GRAFANA_BODY)}
    message = refused("grafana", GRAFANA_WITH_TIMESTAMP, headers=headers, body=GRAFANA_BODY)
    assert message.startswith(f"missing {TIMESTAMP_HEADER} header")


def test_hmac_is_refused_for_a_source_that_does_not_sign() -> None:
    headers = {"x-pagerduty-signature": f"v1={sign(SECRET, b'{}')}"}
    message = refused("datadog", PAGERDUTY, headers=headers, body=b"{}")
    assert "datadog does not sign" in message and "pagerduty, grafana" in message


def test_only_pagerduty_and_grafana_have_a_signing_scheme() -> None:
    assert signing_scheme("pagerduty") == "X-PagerDuty-Signature v1=HMAC-SHA256"
    assert signing_scheme("grafana") == "X-Grafana-Alerting-Signature hex HMAC-SHA256"
    for source in ("datadog", "newrelic", "alertmanager", "gcp", "zabbix", "pagerduty-v2"):
        assert signing_scheme(source) is None


# --- Authorization: <scheme> <token> ------------------------------------------------------

BEARER = WebhookAuth(AuthKind.BEARER, secret=SECRET)


@pytest.mark.parametrize("value", [f"Bearer {SECRET}", f"Token {SECRET}", f"bearer   {SECRET} "])
def test_a_token_with_any_scheme_passes(value: str) -> None:
    verify("newrelic", BEARER, {"authorization": value}, {}, b"{}")


def test_a_missing_authorization_header_says_what_is_expected() -> None:
    message = refused("zabbix", BEARER, headers={"x-other": SECRET + "x"})
    assert message == "missing Authorization header (expected '<scheme> <token>', e.g. Bearer)"


@pytest.mark.parametrize("value", [f"Bearer {OTHER_SECRET}", f"Bearer {SECRET}x", "Bearer x"])
def test_a_wrong_token_is_refused(value: str) -> None:
    message = refused("zabbix", BEARER, headers={"authorization": value})
    assert message == "wrong credentials in the Authorization header"


@pytest.mark.parametrize("value", ["", "Bearer", SECRET, "  Bearer  "])
def test_an_authorization_header_without_scheme_and_token_is_malformed(value: str) -> None:
    message = refused("zabbix", BEARER, headers={"authorization": value})
    assert message.startswith("malformed Authorization header")


# --- HTTP Basic ---------------------------------------------------------------------------

BASIC = WebhookAuth(AuthKind.BASIC, secret=SECRET, username="fireline")


def test_basic_credentials_that_match_pass() -> None:
    verify("gcp", BASIC, {"authorization": basic("fireline", SECRET)}, {}, b"{}")


def test_a_password_with_a_colon_is_split_at_the_first_colon() -> None:
    auth = WebhookAuth(AuthKind.BASIC, secret="pass:with:colons", username="fireline")
    verify("gcp", auth, {"authorization": basic("fireline", "pass:with:colons")}, {}, b"{}")


def test_missing_basic_credentials_say_basic_is_expected() -> None:
    assert refused("gcp", BASIC) == "missing Authorization header (expected Basic)"


@pytest.mark.parametrize(
    ("username", "password"), [("fireline", OTHER_SECRET), ("intruder", SECRET), ("", "")]
)
def test_a_wrong_username_or_password_is_wrong_credentials(username: str, password: str) -> None:
    header = basic(username, password)
    assert refused("gcp", BASIC, headers={"authorization": header}) == "wrong credentials"


def test_a_bearer_token_is_not_basic() -> None:
    message = refused("gcp", BASIC, headers={"authorization": f"Bearer {SECRET}"})
    assert message == "the Authorization header is not Basic (expected Basic)"


@pytest.mark.parametrize(
    "credentials", ["%%%not-base64%%%", base64.b64encode(b"no-colon-here").decode()]
)
def test_malformed_basic_credentials_are_named(credentials: str) -> None:
    message = refused("gcp", BASIC, headers={"authorization": f"Basic {credentials}"})
    assert message.startswith("malformed Basic credentials")


# --- custom header ------------------------------------------------------------------------

HEADER = WebhookAuth(AuthKind.HEADER, secret=SECRET, header_name="X-Fireline-Token")


def test_the_configured_header_matches_whatever_its_case() -> None:
    verify("datadog", HEADER, {"x-fireline-token": SECRET}, {}, b"{}")


def test_a_missing_custom_header_is_named() -> None:
    message = refused("datadog", HEADER, headers={"authorization": f"Bearer {SECRET}"})
    assert message == "missing X-Fireline-Token header"


def test_a_wrong_custom_header_value_is_refused() -> None:
    message = refused("datadog", HEADER, headers={"x-fireline-token": OTHER_SECRET})
    assert message == "wrong credentials in the X-Fireline-Token header"


# --- token in the URL query ---------------------------------------------------------------

QUERY = WebhookAuth(AuthKind.QUERY, secret=SECRET)


@pytest.mark.parametrize("name", ["token", "auth_token"])
def test_a_token_in_the_query_passes(name: str) -> None:
    verify("gcp", QUERY, {}, {name: SECRET}, b"{}")


def test_a_matching_token_passes_even_beside_a_wrong_one() -> None:
    verify("gcp", QUERY, {}, {"token": OTHER_SECRET, "auth_token": SECRET}, b"{}")


def test_a_missing_query_token_says_how_to_add_it() -> None:
    message = refused("gcp", QUERY, query={"key": SECRET + "x"})
    assert message.startswith("missing token query parameter (add ?token=<secret>")


def test_a_wrong_query_token_is_refused() -> None:
    message = refused("gcp", QUERY, query={"token": OTHER_SECRET})
    assert message == "wrong credentials in the URL's token"


def test_a_token_in_a_header_does_not_satisfy_query_authentication() -> None:
    refused("gcp", QUERY, headers={"authorization": f"Bearer {SECRET}", "token": SECRET})
