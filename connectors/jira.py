"""Create and update Jira issues with the `jira` library.

Idempotent create
    Each create carries an idempotency key (workflow id + step). We tag the issue with
    the label `fireline-<first 16 hex of sha256(key)>` and, before creating, search
    for that label (JQL, oldest first) and return the issue found. So a retried or
    replayed create, even one whose first attempt Jira committed but whose answer was
    lost, returns the same issue instead of opening a second one. Labels were chosen
    over an issue property or a custom field because every project has them, they
    need no admin set-up, and JQL can search them on Server, Data Center and Cloud.
    Limits: the `labels` field must be on the project's create screen, and Jira's
    search index lags writes slightly, so a retry within a second or so of a lost
    answer could miss the first issue; Temporal's retry back-off makes that unlikely.
    `update_issue` keeps `fireline-*` labels when it replaces labels.

Threads
    The connector is synchronous (the library uses `requests`); activities call it via
    `asyncio.to_thread`. One instance may be shared by threads: a lock serialises its
    calls, because a `requests.Session` is not safe to use from several threads at once.

Requests
    Create: search (below), then `POST /rest/api/2/issue`. Update:
    `GET /rest/api/2/issue/<ref>`, then as needed `PUT` + `GET` of the issue (fields),
    `GET` + `POST .../transitions`, `POST .../comment`.
    Building the client makes no request (`get_server_info=False`, `validate=False`).
    Retries inside the library are off (`max_retries=0`): Temporal does the retrying.
    Jira Cloud only offers `GET /rest/api/2/search/jql` for search, Server/Data Center
    only `GET /rest/api/2/search`; with `deployment: auto` the first search asks
    `GET /rest/api/2/serverInfo` which one this is (once per connector). Set
    `deployment` to `cloud` or `server` to skip that request. The library also reads
    `GET /rest/api/2/field` once per connector before searching.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal, Self

from jira import JIRA
from jira.resources import Issue
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from connectors.errors import ConnectorError, redact_url
from connectors.jira_errors import jira_errors

LABEL_PREFIX = "fireline-"
_DEPLOYMENT_TYPES = {"cloud": "Cloud", "server": "Server"}


class JiraConnection(BaseModel):
    """One Jira site and how to sign in: exactly one of
    `username` (or `email`) + `api_token` (Cloud), `username` + `password` (Server), or
    `token` (a bearer personal access token, Server/Data Center)."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    url: str = Field(validation_alias=AliasChoices("url", "host"))
    username: str | None = Field(default=None, validation_alias=AliasChoices("username", "email"))
    api_token: SecretStr | None = None
    password: SecretStr | None = None
    token: SecretStr | None = None
    verify_tls: bool = True
    timeout: float = Field(default=30.0, gt=0)
    deployment: Literal["auto", "cloud", "server"] = "auto"

    @field_validator("url")
    @classmethod
    def _base_url(cls, url: str) -> str:
        url = url.strip().rstrip("/")
        if "://" not in url:
            url = f"https://{url}"  # Keep accepts a bare host name; so do we
        if not url.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL, e.g. https://acme.atlassian.net")
        return url

    @model_validator(mode="after")
    def _one_way_to_sign_in(self) -> Self:
        given = [n for n in ("api_token", "password", "token") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of api_token (with email/username), password (with "
                f"username) or token (bearer/PAT); got {', '.join(given) or 'none'}"
            )
        if (self.token is None) != (self.username is not None):
            raise ValueError("api_token and password need a username; token takes none")
        return self

    @property
    def account(self) -> str:
        """Who we sign in as, for messages."""
        return self.username or "the configured bearer token"

    def client_auth(self) -> dict[str, Any]:
        if self.token is not None:
            return {"token_auth": self.token.get_secret_value()}
        secret = self.api_token or self.password
        assert secret is not None  # guaranteed by _one_way_to_sign_in
        return {"basic_auth": (self.username, secret.get_secret_value())}


def idempotency_label(idempotency_key: str) -> str:
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()
    return f"{LABEL_PREFIX}{digest[:16]}"


class JiraConnector:
    """Create and update issues on one Jira site. Synchronous; safe to share by threads."""

    def __init__(self, connection: JiraConnection) -> None:
        self._connection = connection
        self._site = redact_url(connection.url)
        self._lock = threading.Lock()
        self._client: JIRA | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()  # type: ignore[no-untyped-call]
                self._client = None

    def create_issue(
        self,
        *,
        project_key: str,
        summary: str,
        description: str = "",
        issue_type: str = "Task",
        priority: str | None = None,
        labels: Sequence[str] = (),
        components: Sequence[str] = (),
        custom_fields: Mapping[str, Any] | None = None,
        idempotency_key: str,
    ) -> dict[str, Any]:
        """Open an issue, or return the one an earlier call with this key opened."""
        _require(project_key=project_key, summary=summary, idempotency_key=idempotency_key)
        label = idempotency_label(idempotency_key)
        fields = _create_fields(
            project_key, summary, description, issue_type, priority, components, custom_fields
        )
        fields["labels"] = _unique([*_as_list(labels), label])
        with self._lock, self._errors(f"create an issue in project {project_key}"):
            existing = self._find_labelled(label)
            if existing is not None:
                return self._result(existing.raw)
            return self._result(self._jira().create_issue(fields=fields, prefetch=False).raw)

    def update_issue(
        self,
        *,
        issue_id: str,
        transition_to: str | None = None,
        comment: str | None = None,
        summary: str | None = None,
        description: str | None = None,
        labels: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """Edit fields, then move the issue to `transition_to`, then add `comment`.

        `transition_to` is a transition name or the name of the status it leads to; an
        issue already in that status is left as it is, so a retried update succeeds.
        """
        _require(issue_id=issue_id)
        with self._lock, self._errors(f"update issue {issue_id}"):
            client = self._jira()
            issue = client.issue(issue_id)
            edits = _edits(issue, summary, description, labels)
            if edits:
                issue.update(fields=edits)
            result = self._result(issue.raw)
            if transition_to:
                result["transitioned_to"] = self._move(client, issue, transition_to)
            if comment:
                client.add_comment(issue.key, comment)
            return result

    def _jira(self) -> JIRA:
        if self._client is None:
            self._client = JIRA(
                server=self._connection.url,
                options={"verify": self._connection.verify_tls},
                get_server_info=False,
                max_retries=0,
                timeout=self._connection.timeout,
                **self._connection.client_auth(),
            )
        return self._client

    def _find_labelled(self, label: str) -> Issue | None:
        client = self._jira()
        if client.deploymentType is None:
            client.deploymentType = self._deployment_type(client)
        # Oldest first: should a race ever open two, every retry settles on the same one.
        found = client.search_issues(
            f'labels = "{label}" ORDER BY created ASC', maxResults=1, fields="summary,labels"
        )
        return found[0] if found else None

    def _deployment_type(self, client: JIRA) -> str:
        configured = _DEPLOYMENT_TYPES.get(self._connection.deployment)
        return configured or str(client.server_info().get("deploymentType") or "Server")

    def _move(self, client: JIRA, issue: Issue, target: str) -> str:
        status = str(issue.raw["fields"]["status"]["name"])
        if status.casefold() == target.casefold():
            return status
        transitions = client.transitions(issue.key)
        chosen = _matching_transition(transitions, target)
        if chosen is None:
            raise ConnectorError(
                f"issue {issue.key} on {self._site} has no transition '{target}' from status "
                f"'{status}'; available: {_describe(transitions)}",
                retryable=False,
            )
        client.transition_issue(issue.key, str(chosen["id"]))
        return str((chosen.get("to") or {}).get("name") or chosen["name"])

    def _result(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        key = str(raw["key"])
        return {
            "issue": {"id": str(raw["id"]), "key": key, "self": raw["self"]},
            "ticket_url": f"{self._connection.url}/browse/{key}",
        }

    def _errors(self, action: str) -> AbstractContextManager[None]:
        return jira_errors(self._site, self._connection.account, action)


def _require(**values: str | None) -> None:
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise ConnectorError(f"jira: {', '.join(missing)} must not be empty", retryable=False)


def _create_fields(
    project_key: str,
    summary: str,
    description: str,
    issue_type: str,
    priority: str | None,
    components: Sequence[str],
    custom_fields: Mapping[str, Any] | None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "project": {"key": project_key},
        "summary": summary,
        "issuetype": {"name": issue_type},
    }
    if description:
        fields["description"] = description
    if priority:
        fields["priority"] = {"name": priority}
    if components:
        fields["components"] = [{"name": name} for name in _as_list(components)]
    clash = sorted(set(custom_fields or {}) & {*fields, "labels"})
    if clash:
        raise ConnectorError(
            f"jira: custom_fields must not set {', '.join(clash)}; use the named arguments",
            retryable=False,
        )
    return {**fields, **(custom_fields or {})}


def _edits(
    issue: Issue, summary: str | None, description: str | None, labels: Sequence[str] | None
) -> dict[str, Any]:
    edits: dict[str, Any] = {}
    if summary is not None:
        edits["summary"] = summary
    if description is not None:
        edits["description"] = description
    if labels is not None:
        current = issue.raw["fields"].get("labels") or []
        ours = [label for label in current if label.startswith(LABEL_PREFIX)]
        edits["labels"] = _unique([*_as_list(labels), *ours])
    return edits


def _matching_transition(transitions: list[dict[str, Any]], target: str) -> dict[str, Any] | None:
    wanted = target.casefold()
    for transition in transitions:
        if str(transition["name"]).casefold() == wanted:
            return transition
    for transition in transitions:
        if str((transition.get("to") or {}).get("name", "")).casefold() == wanted:
            return transition
    return None


def _describe(transitions: list[dict[str, Any]]) -> str:
    names = [f"{t['name']} (to {(t.get('to') or {}).get('name', '?')})" for t in transitions]
    return ", ".join(names) or "none"


def _as_list(values: str | Iterable[str]) -> list[str]:
    # A YAML author may write `labels: urgent`; iterating that string would give letters.
    return [values] if isinstance(values, str) else list(values)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
