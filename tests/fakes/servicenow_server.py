"""FakeServiceNow: the part of the Table API and OAuth that pysnow calls for our connector.

    POST /oauth_token.do                      password and refresh_token grants
    GET  /api/now/table/<table>               encoded query, limit, offset, fields
    POST /api/now/table/incident              201 {"result": record}
    GET|PATCH|PUT|DELETE /api/now/table/incident/<sys_id>

Tables: `incident` and `sys_journal_field` (read-only: where work notes and comments
go; on the incident they read back empty, as on an instance). Encoded queries understand
`field=value`, `field!=value`, `fieldCONTAINSvalue`, `fieldINa,b`, `ORDERBY[DESC]field`,
joined by `^`; a term on a field the table does not have is dropped, as an instance does
(so the query then matches more). Resolving needs `close_code` and `close_notes` (and
`mandatory_on_resolve`): without them a 403 data-policy error, as an instance answers.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
import secrets
import ssl
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.http_target import FakeHTTPServer, RecordedRequest, Reply

INCIDENT_FIELDS = (
    "sys_id",
    "number",
    "short_description",
    "description",
    "state",
    "priority",
    "impact",
    "urgency",
    "category",
    "cmdb_ci",
    "assignment_group",
    "caller_id",
    "correlation_id",
    "correlation_display",
    "close_code",
    "close_notes",
    "opened_at",
    "resolved_at",
    "sys_created_on",
    "sys_updated_on",
    "sys_updated_by",
    "sys_mod_count",
    "work_notes",
    "comments",
)
JOURNAL_FIELDS = ("sys_id", "element_id", "element", "value", "sys_created_on", "sys_created_by")
WRITE_ONLY = ("work_notes", "comments")
LABELS = {"close_code": "Resolution code", "close_notes": "Resolution notes"}
# ServiceNow's default priority lookup: (impact, urgency) -> priority.
PRIORITY = {(i, u): str(min(5, i + u - 1)) for i in (1, 2, 3) for u in (1, 2, 3)}
_API = re.compile(r"/api/now/table/(?P<table>[a-z_]+)(?:/(?P<sys_id>[^/]+))?")
_TERM = re.compile(r"(?P<field>[a-z_]+?)(?P<op>!=|=|CONTAINS|IN)(?P<value>.*)")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _error(status: int, message: str, detail: str = "") -> Reply:
    return Reply.of_json(
        status, {"error": {"message": message, "detail": detail}, "status": "failure"}
    )


@dataclass
class _Fault:
    reply: Reply
    remaining: int
    method: str | None
    path_contains: str | None

    def matches(self, method: str, path: str) -> bool:
        return self.method in (None, method) and (
            self.path_contains is None or self.path_contains in path
        )


class FakeServiceNow(FakeHTTPServer):
    USER = "fireline.integration"
    PASSWORD = "snow-pass-3c91e7f2"
    CLIENT_ID = "fireline-oauth-client"
    CLIENT_SECRET = "snow-client-secret-8d2b"

    def __init__(
        self,
        *,
        token_lifetime: int = 1800,
        mandatory_on_resolve: Iterable[str] = (),
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(ssl_context=ssl_context)
        self.users = {self.USER: self.PASSWORD}
        self.clients = {self.CLIENT_ID: self.CLIENT_SECRET}
        self.token_lifetime = token_lifetime
        self.mandatory_on_resolve = tuple(mandatory_on_resolve)
        self.hidden_fields: set[str] = set()  # query terms on these are dropped (ACL)
        self.asleep = False  # answer every request with the hibernation page
        self.incidents: dict[str, dict[str, Any]] = {}  # sys_id -> record, in creation order
        self.journal: list[dict[str, Any]] = []
        self.access_tokens: dict[str, str] = {}  # token -> user
        self.refresh_tokens: dict[str, str] = {}
        self.grants: list[str] = []  # grant types asked for, in order
        self.next_lifetimes: list[int] = []  # expires_in of the next tokens, then the default
        self._lock = threading.RLock()
        self._faults: list[_Fault] = []
        self._numbers = itertools.count(10001)

    # -- what a test inspects or arranges -------------------------------------------------

    def incident(self, number: str) -> dict[str, Any]:
        with self._lock:
            return next(r for r in self.incidents.values() if r["number"] == number)

    def notes(self, sys_id: str, element: str = "work_notes") -> list[str]:
        with self._lock:
            return [
                e["value"]
                for e in self.journal
                if (e["element_id"], e["element"]) == (sys_id, element)
            ]

    def add_incident(self, **fields: Any) -> dict[str, Any]:
        """Store an incident as if someone had raised it in ServiceNow."""
        with self._lock:
            return self._insert({"short_description": "seeded", **fields}, user="admin")

    def fail_next(
        self,
        status: int,
        times: int = 1,
        *,
        method: str | None = None,
        path_contains: str | None = None,
        retry_after: str | None = None,
    ) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else None
        reply = Reply.of_json(
            status,
            {"error": {"message": f"injected HTTP {status}", "detail": ""}, "status": "failure"},
            headers,
        )
        with self._lock:
            self._faults.append(_Fault(reply, times, method, path_contains))

    def fail_next_write_after_commit(self, method: str = "POST") -> None:
        """The next write of `method` is applied, then the connection drops unanswered."""
        with self._lock:
            self._faults.append(_Fault(Reply.dropped(), 1, f"{method}!", None))

    def expire_tokens(self) -> None:
        """Every access token stops working (refresh tokens still do)."""
        with self._lock:
            self.access_tokens.clear()

    # -- serving -------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        with self._lock:
            if self.asleep:
                return Reply.of_text(
                    200, "<html><body>Your instance is hibernating</body></html>", "text/html"
                )
            fault = self._take_fault(request.method, request)
            if fault is not None:
                return fault
            if request.path == "/oauth_token.do" and request.method == "POST":
                return self._token(request)
            user = self._user(request)
            if user is None:
                return _error(401, "User Not Authenticated", "Required to provide Auth information")
            match = _API.fullmatch(request.path)
            if match is None:
                return _error(400, "Invalid path", request.path)
            reply = self._table(request, match["table"], match["sys_id"], user)
            after = self._take_fault(f"{request.method}!", request)
            return after if after is not None and reply.status < 300 else reply

    def _take_fault(self, method: str, request: RecordedRequest) -> Reply | None:
        """The next injected reply for `method` ("POST!": after the write was applied)."""
        for fault in self._faults:
            if fault.matches(method, request.path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault.reply
        return None

    def _user(self, request: RecordedRequest) -> str | None:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            return self.access_tokens.get(credentials)
        basic = _basic(request)
        return basic[0] if basic and self.users.get(basic[0]) == basic[1] else None

    def _token(self, request: RecordedRequest) -> Reply:
        form = {k: v[0] for k, v in parse_qs(request.text).items()}
        client_id, client_secret = _basic(request) or (
            form.get("client_id", ""),
            form.get("client_secret", ""),
        )
        if self.clients.get(client_id) != client_secret:
            return Reply.of_json(401, {"error": "invalid_client", "error_description": "denied"})
        grant = form.get("grant_type", "")
        self.grants.append(grant)
        if grant == "password" and self.users.get(form.get("username", "")) == form.get("password"):
            user = form["username"]
        elif grant == "refresh_token" and form.get("refresh_token") in self.refresh_tokens:
            user = self.refresh_tokens[form["refresh_token"]]
        else:
            return Reply.of_json(
                401, {"error": "access_denied", "error_description": "access_denied"}
            )
        lifetime = self.next_lifetimes.pop(0) if self.next_lifetimes else self.token_lifetime
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        self.access_tokens[access] = user
        self.refresh_tokens[refresh] = user
        return Reply.of_json(
            200,
            {
                "access_token": access,
                "refresh_token": refresh,
                "scope": "useraccount",
                "token_type": "Bearer",
                "expires_in": lifetime,
            },
        )

    def _table(self, request: RecordedRequest, table: str, sys_id: str | None, user: str) -> Reply:
        if table not in ("incident", "sys_journal_field"):
            return _error(400, "Invalid table", table)
        if request.method == "GET" and sys_id is None:
            return self._query(request, table)
        if table != "incident":
            return _error(403, "User Not Authorized", "the journal is read-only here")
        if request.method == "POST" and sys_id is None:
            return Reply.of_json(
                201, {"result": self._shown(self._insert(request.json() or {}, user))}
            )
        record = self.incidents.get(sys_id or "")
        if record is None:
            return _error(
                404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval"
            )
        if request.method == "GET":
            return Reply.of_json(200, {"result": self._shown(record)})
        if request.method in ("PATCH", "PUT"):
            return self._update(record, request.json() or {}, user)
        if request.method == "DELETE":
            del self.incidents[record["sys_id"]]
            return Reply(204)
        return _error(405, "Method not supported", request.method)

    def _query(self, request: RecordedRequest, table: str) -> Reply:
        params = {k: v[0] for k, v in request.query.items()}
        rows = list(self.incidents.values()) if table == "incident" else list(self.journal)
        known = INCIDENT_FIELDS if table == "incident" else JOURNAL_FIELDS
        rows = self._filtered(rows, params.get("sysparm_query", ""), known)
        offset, limit = (
            int(params.get("sysparm_offset", 0)),
            int(params.get("sysparm_limit", 10000)),
        )
        page = rows[offset : offset + limit]
        fields = [f for f in params.get("sysparm_fields", "").split(",") if f]
        shown = [self._shown(r, fields) for r in page] if table == "incident" else page
        return Reply.of_json(200, {"result": shown})

    def _filtered(
        self, rows: list[dict[str, Any]], query: str, known: Iterable[str]
    ) -> list[dict[str, Any]]:
        for term in [t for t in query.split("^") if t]:
            if term.startswith("ORDERBY"):
                descending = term.startswith("ORDERBYDESC")
                field = term.removeprefix("ORDERBYDESC" if descending else "ORDERBY")
                rows = sorted(rows, key=lambda r: str(r.get(field, "")), reverse=descending)
                continue
            match = _TERM.fullmatch(term)
            if match is None or match["field"] not in known or match["field"] in self.hidden_fields:
                continue  # an instance silently drops what it cannot apply
            rows = [r for r in rows if _holds(r, match["field"], match["op"], match["value"])]
        return rows

    def _insert(self, fields: Mapping[str, Any], user: str) -> dict[str, Any]:
        now = _now()
        record = {name: "" for name in INCIDENT_FIELDS}
        record.update(
            {k: str(v) for k, v in fields.items() if k in INCIDENT_FIELDS and k not in WRITE_ONLY}
        )
        record.update(
            sys_id=secrets.token_hex(16),
            number=f"INC{next(self._numbers):07d}",
            state=record["state"] or "1",
            impact=record["impact"] or "3",
            urgency=record["urgency"] or "3",
            opened_at=now,
            sys_created_on=now,
            sys_updated_on=now,
            sys_updated_by=user,
            sys_mod_count="0",
        )
        record["priority"] = PRIORITY.get((int(record["impact"]), int(record["urgency"])), "5")
        self.incidents[record["sys_id"]] = record
        self._journal(record, fields, user)
        return record

    def _update(self, record: dict[str, Any], fields: Mapping[str, Any], user: str) -> Reply:
        merged = {**record, **{k: str(v) for k, v in fields.items() if k in INCIDENT_FIELDS}}
        if merged["state"] in ("6", "7"):
            required = ("close_code", "close_notes", *self.mandatory_on_resolve)
            missing = [LABELS.get(name, name) for name in required if not merged.get(name)]
            if missing:
                return _error(
                    403,
                    "Operation Failed",
                    "Data Policy Exception: \n The following fields are mandatory: "
                    + ", ".join(missing),
                )
        for name in WRITE_ONLY:
            merged[name] = ""
        if merged["state"] == "6" and record["state"] != "6":
            merged["resolved_at"] = _now()
        merged.update(
            sys_updated_on=_now(),
            sys_updated_by=user,
            sys_mod_count=str(int(record["sys_mod_count"]) + 1),
        )
        record.update(merged)
        self._journal(record, fields, user)
        return Reply.of_json(200, {"result": self._shown(record)})

    def _journal(self, record: Mapping[str, Any], fields: Mapping[str, Any], user: str) -> None:
        for element in WRITE_ONLY:
            if fields.get(element):
                self.journal.append(
                    {
                        "sys_id": secrets.token_hex(16),
                        "element_id": record["sys_id"],
                        "element": element,
                        "value": str(fields[element]),
                        "sys_created_on": _now(),
                        "sys_created_by": user,
                    }
                )

    @staticmethod
    def _shown(record: Mapping[str, Any], fields: list[str] | None = None) -> dict[str, Any]:
        return {k: v for k, v in record.items() if not fields or k in fields}


def _basic(request: RecordedRequest) -> tuple[str, str] | None:
    """(name, secret) of a Basic Authorization header."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        name, _, secret = base64.b64decode(credentials).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return name, secret


def _holds(record: Mapping[str, Any], field: str, op: str, value: str) -> bool:
    actual = str(record.get(field, ""))
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    if op == "CONTAINS":
        return value in actual
    return actual in value.split(",")
