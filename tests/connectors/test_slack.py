"""Posting to a Slack incoming webhook (FakeSlack) with the real httpx client."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from connectors.errors import ConnectorError
from connectors.slack import SlackConnection, post_message
from tests.fakes.slack_server import WEBHOOK_PATH, FakeSlack


async def test_a_message_is_posted_with_its_options(
    fake_slack: FakeSlack, slack: SlackConnection
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*OPS-1* created"}}]

    result = await post_message(
        slack,
        message="Ticket OPS-1 created",
        blocks=blocks,
        channel="#incidents",
        username="fireline",
        icon_emoji=":fire:",
    )

    assert result == {"status_code": 200, "body": "ok"}
    assert fake_slack.messages == [
        {
            "text": "Ticket OPS-1 created",
            "blocks": blocks,
            "channel": "#incidents",
            "username": "fireline",
            "icon_emoji": ":fire:",
        }
    ]


async def test_options_not_given_are_left_out(
    fake_slack: FakeSlack, slack: SlackConnection
) -> None:
    await post_message(slack, message="hello")

    assert fake_slack.messages == [{"text": "hello"}]


@pytest.mark.parametrize(("status", "answer"), [(500, "rollup_error"), (429, "rate_limited")])
async def test_slack_failing_or_rate_limiting_is_retryable(
    fake_slack: FakeSlack, slack: SlackConnection, status: int, answer: str
) -> None:
    fake_slack.fail_next(status)

    with pytest.raises(ConnectorError) as err:
        await post_message(slack, message="hello")

    assert (err.value.retryable, err.value.status_code) == (True, status)
    assert answer in str(err.value)
    assert fake_slack.messages == []


async def test_a_revoked_webhook_is_final_says_what_to_do_and_hides_the_url(
    fake_slack: FakeSlack, slack: SlackConnection
) -> None:
    fake_slack.fail_next(404)

    with pytest.raises(ConnectorError) as err:
        await post_message(slack, message="hello")

    assert (err.value.retryable, err.value.status_code) == (False, 404)
    assert "HTTP 404 no_service" in str(err.value)
    assert "create a new incoming webhook" in str(err.value)
    assert "127.0.0.1" in str(err.value)
    assert WEBHOOK_PATH not in str(err.value)


async def test_an_unreachable_webhook_is_retryable_and_hides_the_url(closed_port_url: str) -> None:
    connection = SlackConnection(webhook_url=closed_port_url + WEBHOOK_PATH)

    with pytest.raises(ConnectorError) as err:
        await post_message(connection, message="hello")

    assert err.value.retryable
    assert WEBHOOK_PATH not in str(err.value)
    assert err.value.__cause__ is None


async def test_an_empty_message_is_refused_before_posting(
    fake_slack: FakeSlack, slack: SlackConnection
) -> None:
    with pytest.raises(ConnectorError, match="message is empty") as err:
        await post_message(slack, message="")

    assert not err.value.retryable
    assert fake_slack.requests == []


def test_a_connection_never_shows_its_webhook_url() -> None:
    connection = SlackConnection(webhook_url="https://hooks.slack.com" + WEBHOOK_PATH)

    assert WEBHOOK_PATH not in repr(connection)
    assert connection.host == "hooks.slack.com"
    with pytest.raises(ValidationError, match="URL of a Slack incoming webhook") as err:
        SlackConnection(webhook_url="hooks.slack.com" + WEBHOOK_PATH)
    assert WEBHOOK_PATH not in str(err.value)
