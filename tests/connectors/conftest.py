"""Real fake servers on loopback, one per test, and connections to them."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from connectors.jira import JiraConnection, JiraConnector
from connectors.servicenow import ServiceNowConnection, ServiceNowConnector
from connectors.slack import SlackConnection
from connectors.ssh import SshTarget
from tests.fakes.http_target import HttpTarget
from tests.fakes.jira_server import FakeJira
from tests.fakes.servicenow_server import FakeServiceNow
from tests.fakes.slack_server import FakeSlack
from tests.fakes.sshd import OpenSshServer, require_sshd


@pytest.fixture
def fake_jira() -> Iterator[FakeJira]:
    with FakeJira() as fake:
        yield fake


@pytest.fixture
def jira_connection(fake_jira: FakeJira) -> JiraConnection:
    return JiraConnection(url=fake_jira.url, email=FakeJira.USER, api_token=FakeJira.API_TOKEN)


@pytest.fixture
def jira(jira_connection: JiraConnection) -> Iterator[JiraConnector]:
    with JiraConnector(jira_connection) as connector:
        yield connector


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def slack(fake_slack: FakeSlack) -> SlackConnection:
    return SlackConnection(webhook_url=fake_slack.webhook_url)


@pytest.fixture
def target() -> Iterator[HttpTarget]:
    with HttpTarget() as server:
        yield server


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL nothing listens on: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenSshServer]:
    """A real OpenSSH server on a loopback port (skips without sshd, fails under CI=true)."""
    require_sshd()
    with OpenSshServer(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture
def ssh_target(sshd: OpenSshServer) -> SshTarget:
    """Logs in to `sshd` with its client key; the server's host key is pinned."""
    return sshd.target()


@pytest.fixture
def fake_servicenow() -> Iterator[FakeServiceNow]:
    with FakeServiceNow() as fake:
        yield fake


@pytest.fixture
def servicenow_connection(fake_servicenow: FakeServiceNow) -> ServiceNowConnection:
    return ServiceNowConnection(
        url=fake_servicenow.url, username=FakeServiceNow.USER, password=FakeServiceNow.PASSWORD
    )


@pytest.fixture
def servicenow(servicenow_connection: ServiceNowConnection) -> ServiceNowConnector:
    return ServiceNowConnector(servicenow_connection)
