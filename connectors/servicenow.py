"""ServiceNow incidents through `pysnow`, behind a small interface of ours.

Exactly one ticket
    ServiceNow enforces no uniqueness, so every create carries a correlation id
    (`fireline:` + 32 hex of sha256(workflow id + step)) and `correlation_display:
    Fireline`. Before creating, the connector looks that id up and returns the ticket it
    finds, so a create whose answer was lost, retried, opens nothing new. A record only
    counts when it really carries the id: an instance drops a query term on a field it
    does not know (or an ACL hides) and then answers with every incident. A hit in any
    state, Closed and Canceled included, is returned: it is this very step's ticket.
    Work notes and comments carry a marker line (`[fireline:<hash>]`) and are looked up in
    `sys_journal_field` first; a resolve of a ticket already Resolved or Closed changes
    nothing. So a retried note or resolve lands once. (An account that may not read the
    journal gets at-least-once notes; the lookup's 403 is not an error.)

pysnow
    Synchronous: activities call this through `asyncio.to_thread`. A pysnow `Resource`
    keeps query settings from an earlier call and sends them on later ones (pysnow #195),
    so every call builds a fresh client and resource. Updates are one PATCH (pysnow's
    `update()` is a GET then a PUT). Paging is by offset (pysnow ignores `Link` headers).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Self, TypeVar

import pysnow
import requests
from oauthlib.oauth2 import OAuth2Error

from connectors.errors import ConnectorError
from connectors.servicenow_auth import ServiceNowConnection, forget_token, signed_in_session
from connectors.servicenow_errors import ServiceNowNotFoundError, servicenow_errors

__all__ = ["ServiceNowConnection", "ServiceNowConnector", "Ticket", "correlation_id"]

CORRELATION_PREFIX = "fireline:"
CORRELATION_DISPLAY = "Fireline"
INCIDENT_TABLE = "/table/incident"
JOURNAL_TABLE = "/table/sys_journal_field"
RESOLVED_STATES = ("6", "7")  # Resolved, Closed
STATE_RESOLVED = "6"
# Set by the connector itself: a caller's `fields` may not override them.
RESERVED_FIELDS = ("correlation_id", "correlation_display", "sys_id", "number")
_SYS_ID = re.compile(r"[0-9a-f]{32}")
_NUMBER = re.compile(r"[A-Za-z]+[0-9]+")
_T = TypeVar("_T")


@dataclass(frozen=True)
class Ticket:
    """One ServiceNow incident as Fireline needs it."""

    sys_id: str
    number: str
    state: str
    url: str  # the incident form in the instance
    correlation_id: str = ""
    record: Mapping[str, Any] | None = None  # every field the instance returned

    def as_result(self) -> dict[str, Any]:
        """What a workflow step returns (`results.ticket_id`, ...)."""
        return {
            "ticket_id": self.number,
            "sys_id": self.sys_id,
            "ticket_url": self.url,
            "state": self.state,
        }


def correlation_id(idempotency_key: str) -> str:
    return CORRELATION_PREFIX + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


class ServiceNowConnector:
    """Incidents on one instance. Synchronous; safe to share by threads."""

    def __init__(self, connection: ServiceNowConnection) -> None:
        self._connection = connection
        self._lock = threading.Lock()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    # -- operations -------------------------------------------------------------------

    def create_incident(self, fields: Mapping[str, Any], *, idempotency_key: str) -> Ticket:
        """Open an incident, or return the one an earlier call with this key opened."""
        _refuse_reserved(fields)
        if not str(fields.get("short_description") or "").strip():
            raise ConnectorError("servicenow: short_description must not be empty", retryable=False)
        correlation = correlation_id(idempotency_key)
        with self._errors("create an incident"):
            found = self._find_correlated(correlation)
            if found is not None:
                return found
            payload = {
                **fields,
                "correlation_id": correlation,
                "correlation_display": CORRELATION_DISPLAY,
            }
            return self._ticket(self._call(lambda r: r.create(payload=payload).one()))

    def find_by_correlation(self, correlation: str) -> Ticket | None:
        with self._errors(f"look up correlation id {correlation}"):
            return self._find_correlated(correlation)

    def get(self, ref: str) -> Ticket:
        """The incident by sys_id (32 hex) or number (INC0010001)."""
        with self._errors(f"read incident {ref}"):
            return self._get(ref)

    def update(self, ref: str, fields: Mapping[str, Any]) -> Ticket:
        """Set `fields` in one PATCH; work_notes and comments are better added by note()."""
        _refuse_reserved(fields)
        with self._errors(f"update incident {ref}"):
            ticket = self._get(ref)
            return self._patch(ticket, dict(fields)) if fields else ticket

    def add_note(
        self, ref: str, text: str, *, idempotency_key: str, kind: str = "work_notes"
    ) -> Ticket:
        """Add a work note (or, kind="comments", a comment visible to the caller) once."""
        if kind not in ("work_notes", "comments"):
            raise ConnectorError(
                f"servicenow: a note is work_notes or comments, not {kind}", retryable=False
            )
        marker = f"[{correlation_id(idempotency_key)}]"
        with self._errors(f"add {kind.replace('_', ' ')} to incident {ref}"):
            ticket = self._get(ref)
            if self._journal_has(ticket.sys_id, kind, marker):
                return ticket
            return self._patch(ticket, {kind: f"{text}\n{marker}"})

    def resolve(
        self,
        ref: str,
        *,
        close_code: str,
        close_notes: str,
        fields: Mapping[str, Any] | None = None,
    ) -> Ticket:
        """Move the incident to Resolved (6); one already Resolved or Closed is left as is."""
        _refuse_reserved(fields or {})
        with self._errors(f"resolve incident {ref}"):
            ticket = self._get(ref)
            if ticket.state in RESOLVED_STATES:
                return ticket
            changes = {
                **(fields or {}),
                "state": STATE_RESOLVED,
                "close_code": close_code,
                "close_notes": close_notes,
            }
            return self._patch(ticket, changes)

    def list_incidents(self, query: str, *, offset: int, limit: int) -> list[dict[str, Any]]:
        """One page of incident records matching an encoded query, oldest first."""
        ordered = f"{query}^ORDERBYsys_created_on" if query else "ORDERBYsys_created_on"
        with self._errors(f"list incidents matching {query or 'everything'}"):
            return self._call(
                lambda r: list(r.get(query=ordered, limit=limit, offset=offset).all())
            )

    # -- building blocks --------------------------------------------------------------

    def _find_correlated(self, correlation: str) -> Ticket | None:
        query = f"correlation_id={correlation}^ORDERBYsys_created_on"
        records = self._call(lambda r: list(r.get(query=query, limit=1).all()))
        if not records or records[0].get("correlation_id") != correlation:
            return None
        return self._ticket(records[0])

    def _get(self, ref: str) -> Ticket:
        ref = ref.strip()
        if _SYS_ID.fullmatch(ref):
            return self._ticket(self._call(lambda r: r.request("GET", path_append=ref).one()))
        if not _NUMBER.fullmatch(ref):
            raise ConnectorError(
                f"servicenow: '{ref}' is neither an incident number (INC0010001) nor a sys_id",
                retryable=False,
            )
        records = self._call(lambda r: list(r.get(query=f"number={ref}", limit=2).all()))
        matching = [record for record in records if record.get("number") == ref]
        if not matching:
            raise ServiceNowNotFoundError(
                f"incident {ref} not found on {self._connection.site}; check the number and "
                f"that {self._connection.username} can read it"
            )
        return self._ticket(matching[0])

    def _patch(self, ticket: Ticket, fields: dict[str, Any]) -> Ticket:
        body = json.dumps(fields)
        path = "/" + ticket.sys_id
        return self._ticket(
            self._call(lambda r: r.request("PATCH", path_append=path, data=body).one())
        )

    def _journal_has(self, sys_id: str, kind: str, marker: str) -> bool:
        query = f"element_id={sys_id}^element={kind}^valueCONTAINS{marker}"
        try:
            entries = self._call(
                lambda r: list(r.get(query=query, limit=10).all()), table=JOURNAL_TABLE
            )
        except requests.HTTPError as err:
            if err.response is not None and err.response.status_code == 403:
                return False
            raise
        return any(marker in str(entry.get("value", "")) for entry in entries)

    def _call(self, request: Callable[[Any], _T], table: str = INCIDENT_TABLE) -> _T:
        """Run `request` on a fresh resource; with OAuth, once more on a fresh token when
        the instance refuses the cached one."""
        try:
            return request(self._resource(table))
        except (requests.HTTPError, OAuth2Error) as err:
            refused = isinstance(err, OAuth2Error) or _status(err) == 401
            if not (self._connection.uses_oauth and refused):
                raise
        forget_token(self._connection)
        return request(self._resource(table))

    def _resource(self, table: str) -> Any:
        with self._lock:
            client = pysnow.Client(
                host=self._connection.host,
                use_ssl=self._connection.use_ssl,
                session=signed_in_session(self._connection),
            )
        return client.resource(api_path=table, timeout=self._connection.timeout)

    def _ticket(self, record: Mapping[str, Any]) -> Ticket:
        sys_id = str(record.get("sys_id") or "")
        return Ticket(
            sys_id=sys_id,
            number=str(record.get("number") or ""),
            state=str(record.get("state") or ""),
            url=f"{self._connection.url}/incident.do?sys_id={sys_id}",
            correlation_id=str(record.get("correlation_id") or ""),
            record=dict(record),
        )

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        with servicenow_errors(self._connection.site, self._connection.username, action):
            yield


def _status(err: requests.HTTPError) -> int | None:
    return err.response.status_code if err.response is not None else None


def _refuse_reserved(fields: Mapping[str, Any]) -> None:
    clash = sorted(set(fields) & set(RESERVED_FIELDS))
    if clash:
        raise ConnectorError(
            f"servicenow: fields must not set {', '.join(clash)}; Fireline sets them",
            retryable=False,
        )
