"""FakeJira: the part of Jira's REST API that the `jira` library calls for our connector.

Endpoints, under /rest/api/2 (also /3 and /latest):
    GET serverInfo (anonymous)          GET field
    POST issue                          GET, PUT issue/<id or key>
    GET, POST issue/<ref>/transitions   POST issue/<ref>/comment
    GET, POST search      (Server and Data Center; removed on Cloud: 410)
    GET, POST search/jql  (Cloud only; 404 on Server)
Search understands `labels = x`, `project = X`, `key = X-1` and `status = "To Do"`,
joined by AND, with an optional `ORDER BY created [ASC|DESC]`. Anything else is answered
the way Jira does (400 with `errorMessages` / `errors`), so a test sees a real error.
"""

from __future__ import annotations

import base64
import binascii
import re
import ssl
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.http_target import FakeHTTPServer, RecordedRequest, Reply

ISSUE_TYPES = ("Task", "Bug", "Story", "Epic", "Incident")
PRIORITIES = ("Highest", "High", "Medium", "Low", "Lowest")
CUSTOM_FIELDS = {"customfield_10020": "Team", "customfield_10021": "Incident Id"}
STANDARD_FIELDS = {
    "summary": "Summary",
    "description": "Description",
    "labels": "Labels",
    "priority": "Priority",
    "components": "Component/s",
    "issuetype": "Issue Type",
    "project": "Project",
    "status": "Status",
    "created": "Created",
}
STATUS_IDS = {"To Do": "10000", "In Progress": "3", "Done": "10001"}
# status -> transitions available from it: (id, name, target status)
WORKFLOW = {
    "To Do": [("11", "Start Progress", "In Progress"), ("31", "Resolve", "Done")],
    "In Progress": [("21", "Stop Progress", "To Do"), ("31", "Resolve", "Done")],
    "Done": [("41", "Reopen", "To Do")],
}
_API = r"/rest/api/(?:2|3|latest)/"
_REF = r"issue/(?P<ref>[^/]+)"
_NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."
_NO_ISSUE = "Issue does not exist or you do not have permission to see it."


@dataclass
class FakeIssue:
    id: str
    key: str
    project: str
    fields: dict[str, Any]  # as Jira stores them: priority, issuetype, ... are objects
    seq: int
    status: str = "To Do"
    comments: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return str(self.fields.get("summary", ""))

    @property
    def labels(self) -> list[str]:
        return list(self.fields.get("labels") or [])

    @property
    def priority(self) -> str | None:
        return (self.fields.get("priority") or {}).get("name")

    @property
    def components(self) -> list[str]:
        return [c["name"] for c in self.fields.get("components") or []]

    @property
    def issue_type(self) -> str:
        return str(self.fields["issuetype"]["name"])

    def self_url(self, base_url: str) -> str:
        return f"{base_url}/rest/api/2/issue/{self.id}"

    def to_json(self, base_url: str) -> dict[str, Any]:
        comments = [_comment_json(self, base_url, n) for n in range(len(self.comments))]
        return {
            "id": self.id,
            "key": self.key,
            "self": self.self_url(base_url),
            "fields": {
                "labels": [],
                "components": [],
                "description": None,
                "priority": None,
                **self.fields,
                "status": {"name": self.status, "id": STATUS_IDS[self.status]},
                "comment": {"comments": comments, "total": len(comments), "startAt": 0},
            },
        }


def _comment_json(issue: FakeIssue, base_url: str, index: int) -> dict[str, str]:
    number = str(index + 1)
    return {
        "id": number,
        "body": issue.comments[index],
        "self": f"{issue.self_url(base_url)}/comment/{number}",
    }


@dataclass
class _Fault:
    status: int
    remaining: int
    method: str | None
    path_contains: str | None

    def matches(self, request: RecordedRequest) -> bool:
        return (self.method is None or self.method == request.method) and (
            self.path_contains is None or self.path_contains in request.path
        )


class FakeJira(FakeHTTPServer):
    USER = "fireline-bot@example.com"
    API_TOKEN = "jira-api-token-7f3a9c"
    PAT = "jira-personal-access-token-51b2e8"

    def __init__(
        self,
        *,
        users: Mapping[str, str] | None = None,
        tokens: Iterable[str] | None = None,
        projects: Mapping[str, Iterable[str]] | None = None,
        deployment_type: str = "Server",
        ssl_context: ssl.SSLContext | None = None,
        port: int = 0,
    ) -> None:
        """`users`: name -> password or API token; `tokens`: bearer tokens (PATs);
        `projects`: key -> component names; `deployment_type`: "Server" or "Cloud";
        `ssl_context`: serve HTTPS with its certificate."""
        super().__init__(ssl_context=ssl_context, port=port)
        self.users = dict(users if users is not None else {self.USER: self.API_TOKEN})
        self.tokens = set(tokens if tokens is not None else {self.PAT})
        projects = projects if projects is not None else {"OPS": ("api", "database"), "SEC": ()}
        self.projects = {key: tuple(components) for key, components in projects.items()}
        self.deployment_type = deployment_type
        self._issues: dict[str, FakeIssue] = {}
        self._lock = threading.RLock()
        self._faults: list[_Fault] = []
        self._after_commit: Reply | None = None

    # -- what a test inspects -----------------------------------------------------------

    @property
    def issues(self) -> list[FakeIssue]:
        with self._lock:
            return sorted(self._issues.values(), key=lambda issue: issue.seq)

    def issue(self, key: str) -> FakeIssue:
        with self._lock:
            return self._issues[key]

    def calls(self) -> list[str]:
        """Every request as "METHOD /path", in order."""
        return [f"{r.method} {r.path}" for r in self.requests]

    def add_issue(self, project: str = "OPS", summary: str = "seeded", **fields: Any) -> FakeIssue:
        """Store an issue directly, as if someone had created it in Jira."""
        with self._lock:
            return self._store(
                project, {"summary": summary, "issuetype": {"name": "Task"}, **fields}
            )

    # -- fault injection ----------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        times: int = 1,
        *,
        method: str | None = None,
        path_contains: str | None = None,
    ) -> None:
        """Answer the next `times` matching requests with `status`, changing nothing."""
        with self._lock:
            self._faults.append(_Fault(status, times, method, path_contains))

    def fail_next_create_after_commit(self, *, drop_connection: bool = False) -> None:
        """The next create stores its issue, then answers 500 (or drops the connection)."""
        with self._lock:
            self._after_commit = Reply.dropped() if drop_connection else _error(500, "timeout")

    # -- serving ------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        with self._lock:
            fault = self._take_fault(request)
            if fault is not None:
                return fault
            handler, params = _route(request)
            if handler is None:
                return _error(404, f"fake jira has no {request.method} {request.path}")
            if handler is not FakeJira._server_info and not self._authenticated(request):
                return _not_authenticated()
            return handler(self, request, **params)

    def _take_fault(self, request: RecordedRequest) -> Reply | None:
        fault = next((f for f in self._faults if f.matches(request)), None)
        if fault is None:
            return None
        fault.remaining -= 1
        if fault.remaining <= 0:
            self._faults.remove(fault)
        headers = {"Retry-After": "1"} if fault.status == 429 else None
        return _error(fault.status, f"injected failure (HTTP {fault.status})", headers=headers)

    def _authenticated(self, request: RecordedRequest) -> bool:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            return credentials in self.tokens
        if scheme.lower() != "basic":
            return False
        try:
            user, _, secret = base64.b64decode(credentials).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user in self.users and self.users[user] == secret

    # -- endpoints ----------------------------------------------------------------------

    def _server_info(self, request: RecordedRequest) -> Reply:
        version = [1001, 0, 0] if self.deployment_type == "Cloud" else [9, 12, 2]
        info = {
            "baseUrl": self.url,
            "version": ".".join(map(str, version)),
            "versionNumbers": version,
            "deploymentType": self.deployment_type,
            "serverTitle": "Fake Jira",
        }
        return Reply.of_json(200, info)

    def _list_fields(self, request: RecordedRequest) -> Reply:
        standard = [_field(fid, name, [fid], custom=False) for fid, name in STANDARD_FIELDS.items()]
        custom = [
            _field(fid, name, [fid, f"cf[{fid.rsplit('_', 1)[1]}]", name], custom=True)
            for fid, name in CUSTOM_FIELDS.items()
        ]
        return Reply.of_json(200, standard + custom)

    def _create_issue(self, request: RecordedRequest) -> Reply:
        fields = dict((request.json() or {}).get("fields") or {})
        project = self._project_of(fields.pop("project", None))
        missing = _missing_create_fields(project, fields)
        stored, invalid = self._normalised(fields, project or "")
        if project is None or missing or invalid:
            return _error(400, errors={**missing, **invalid})
        issue = self._store(project, stored)
        answer, self._after_commit = self._after_commit, None
        ref = {"id": issue.id, "key": issue.key, "self": issue.self_url(self.url)}
        return answer or Reply.of_json(201, ref)

    def _get_issue(self, request: RecordedRequest, ref: str) -> Reply:
        issue = self._find(ref)
        if issue is None:
            return _error(404, _NO_ISSUE)
        return Reply.of_json(200, issue.to_json(self.url))

    def _edit_issue(self, request: RecordedRequest, ref: str) -> Reply:
        issue = self._find(ref)
        if issue is None:
            return _error(404, _NO_ISSUE)
        body = request.json() or {}
        stored, invalid = self._normalised(body.get("fields") or {}, issue.project)
        if invalid:
            return _error(400, errors=invalid)
        problems = _apply_updates(issue, body.get("update") or {})
        if problems:
            return _error(400, errors=problems)
        issue.fields.update(stored)
        return Reply(204)

    def _list_transitions(self, request: RecordedRequest, ref: str) -> Reply:
        issue = self._find(ref)
        if issue is None:
            return _error(404, _NO_ISSUE)
        transitions = [
            {"id": tid, "name": name, "to": {"name": to, "id": STATUS_IDS[to]}, "hasScreen": False}
            for tid, name, to in WORKFLOW[issue.status]
        ]
        return Reply.of_json(200, {"expand": "transitions", "transitions": transitions})

    def _do_transition(self, request: RecordedRequest, ref: str) -> Reply:
        issue = self._find(ref)
        if issue is None:
            return _error(404, _NO_ISSUE)
        body = request.json() or {}
        wanted = str((body.get("transition") or {}).get("id"))
        target = next((to for tid, _, to in WORKFLOW[issue.status] if tid == wanted), None)
        if target is None:
            return _error(
                400,
                f"Transition id '{wanted}' is not valid for this issue ({issue.key}) "
                f"in status '{issue.status}'.",
            )
        problems = _apply_updates(issue, body.get("update") or {})
        if problems:
            return _error(400, errors=problems)
        issue.status = target
        return Reply(204)

    def _add_comment(self, request: RecordedRequest, ref: str) -> Reply:
        issue = self._find(ref)
        if issue is None:
            return _error(404, _NO_ISSUE)
        body = str((request.json() or {}).get("body") or "")
        if not body.strip():
            return _error(400, errors={"comment": "Comment body can not be empty!"})
        issue.comments.append(body)
        return Reply.of_json(201, _comment_json(issue, self.url, len(issue.comments) - 1))

    def _search(self, request: RecordedRequest) -> Reply:
        if self.deployment_type == "Cloud":
            return _error(410, "The requested API has been removed. Use /rest/api/3/search/jql.")
        params = _search_params(request)
        found, problem = self._matching(params)
        if problem is not None:
            return problem
        start, limit = int(params.get("startAt") or 0), int(params.get("maxResults") or 50)
        page = [issue.to_json(self.url) for issue in found[start : start + limit]]
        body = {"startAt": start, "maxResults": limit, "total": len(found), "issues": page}
        return Reply.of_json(200, body)

    def _search_jql(self, request: RecordedRequest) -> Reply:
        if self.deployment_type != "Cloud":
            return _error(404, "null for uri: search/jql")
        params = _search_params(request)
        found, problem = self._matching(params)
        if problem is not None:
            return problem
        limit = int(params.get("maxResults") or 50)
        page = [issue.to_json(self.url) for issue in found[:limit]]
        return Reply.of_json(200, {"issues": page, "isLast": len(found) <= limit})

    # -- helpers ------------------------------------------------------------------------

    def _matching(self, params: Mapping[str, Any]) -> tuple[list[FakeIssue], Reply | None]:
        try:
            matches, descending = _compile_jql(str(params.get("jql") or ""))
        except ValueError as err:
            return [], _error(400, f"Error in the JQL Query: {err}")
        found = [issue for issue in self.issues if matches(issue)]
        return (found[::-1] if descending else found), None

    def _find(self, ref: str) -> FakeIssue | None:
        by_id = (issue for issue in self._issues.values() if issue.id == ref)
        return self._issues.get(ref) or next(by_id, None)

    def _project_of(self, project: Any) -> str | None:
        key = project.get("key") if isinstance(project, dict) else None
        return key if key in self.projects else None

    def _store(self, project: str, fields: dict[str, Any]) -> FakeIssue:
        seq = len(self._issues) + 1
        number = 1 + sum(1 for issue in self._issues.values() if issue.project == project)
        issue = FakeIssue(str(10000 + seq), f"{project}-{number}", project, fields, seq)
        issue.fields["project"] = {"key": project, "name": project}
        self._issues[issue.key] = issue
        return issue

    def _normalised(
        self, fields: Mapping[str, Any], project: str
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Fields as Jira stores them, and the error for each field it would reject."""
        stored: dict[str, Any] = {}
        invalid: dict[str, str] = {}
        for name, value in fields.items():
            try:
                stored[name] = self._normalise(name, value, project)
            except ValueError as err:
                invalid[name] = str(err)
        return stored, invalid

    def _normalise(self, name: str, value: Any, project: str) -> Any:
        if name in CUSTOM_FIELDS:
            return value
        if name == "components":
            return [self._component(project, component) for component in value or []]
        check = _FIELD_CHECKS.get(name)
        if check is None:
            raise ValueError(
                f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
            )
        return check(value)

    def _component(self, project: str, component: Any) -> dict[str, str]:
        name = component.get("name") if isinstance(component, dict) else None
        if name not in self.projects.get(project, ()):
            raise ValueError(f"Component name '{name}' is not valid")
        return {"name": name}


def _error(
    status: int,
    *messages: str,
    errors: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    body = {"errorMessages": list(messages), "errors": dict(errors or {})}
    return Reply.of_json(status, body, headers)


def _not_authenticated() -> Reply:
    headers = {
        "WWW-Authenticate": 'Basic realm="protected-area"',
        "X-Seraph-LoginReason": "AUTHENTICATED_FAILED",
    }
    return _error(401, _NOT_AUTHENTICATED, headers=headers)


def _field(fid: str, name: str, clauses: list[str], *, custom: bool) -> dict[str, Any]:
    return {"id": fid, "key": fid, "name": name, "custom": custom, "clauseNames": clauses}


def _missing_create_fields(project: str | None, fields: Mapping[str, Any]) -> dict[str, str]:
    missing = {}
    if project is None:
        missing["project"] = "valid project is required"
    if not fields.get("summary"):
        missing["summary"] = "You must specify a summary of the issue."
    if not fields.get("issuetype"):
        missing["issuetype"] = "valid issue type is required"
    return missing


def _summary(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("You must specify a summary of the issue.")
    if "\n" in value:
        raise ValueError("The summary is invalid because it contains newline characters.")
    return value


def _description(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError("Operation value must be a string")
    return value


def _labels(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("Field 'labels' must be a list of strings")
    for label in value:
        if " " in label:
            raise ValueError(f"The label '{label}' contains spaces which is invalid.")
    return list(value)


def _named(allowed: tuple[str, ...], what: str) -> Callable[[Any], dict[str, str]]:
    def check(value: Any) -> dict[str, str]:
        name = value.get("name") if isinstance(value, dict) else None
        if name not in allowed:
            raise ValueError(
                f"Specify a valid {what} ('{name}' is not one of {', '.join(allowed)})"
            )
        return {"name": name}

    return check


_FIELD_CHECKS: dict[str, Callable[[Any], Any]] = {
    "summary": _summary,
    "description": _description,
    "labels": _labels,
    "priority": _named(PRIORITIES, "priority"),
    "issuetype": _named(ISSUE_TYPES, "issue type"),
}


def _apply_updates(issue: FakeIssue, update: Mapping[str, Any]) -> dict[str, str]:
    """Jira's `update` verbs: labels add/remove/set and comment add. Returns problems."""
    for name, operations in update.items():
        for operation in operations:
            if name == "comment" and "add" in operation:
                issue.comments.append(str(operation["add"].get("body", "")))
            elif name == "labels" and {"add", "remove", "set"} & operation.keys():
                issue.fields["labels"] = _label_operation(issue.labels, operation)
            else:
                return {name: f"fake jira does not support the update {operation!r}"}
    return {}


def _label_operation(labels: list[str], operation: Mapping[str, Any]) -> list[str]:
    if "set" in operation:
        return list(operation["set"])
    if "add" in operation:
        return labels if operation["add"] in labels else [*labels, operation["add"]]
    return [label for label in labels if label != operation["remove"]]


def _search_params(request: RecordedRequest) -> dict[str, Any]:
    if request.method == "POST":
        return dict(request.json() or {})
    return {name: values[0] for name, values in request.query.items()}


_ORDER = re.compile(
    r"(?is)^(?P<where>.*?)(?:\s*ORDER\s+BY\s+created(?:\s+(?P<dir>ASC|DESC))?)?\s*$"
)
_CLAUSE = re.compile(r'^\s*(?P<field>\w+)\s*=\s*(?:"(?P<quoted>[^"]*)"|(?P<bare>[\w.\-]+))\s*$')
_MATCHERS: dict[str, Callable[[FakeIssue, str], bool]] = {
    "labels": lambda issue, value: value in issue.labels,
    "project": lambda issue, value: issue.project.casefold() == value.casefold(),
    "key": lambda issue, value: issue.key.casefold() == value.casefold(),
    "status": lambda issue, value: issue.status.casefold() == value.casefold(),
}


def _compile_jql(jql: str) -> tuple[Callable[[FakeIssue], bool], bool]:
    """A test for `field = value` clauses joined by AND, and whether to sort descending.

    Raises ValueError for any other JQL."""
    order = _ORDER.match(jql)
    where = order["where"] if order else jql
    tests = [_clause_test(c) for c in re.split(r"(?i)\s+AND\s+", where) if c.strip()]
    descending = bool(order and (order["dir"] or "").upper() == "DESC")
    return (lambda issue: all(test(issue) for test in tests)), descending


def _clause_test(clause: str) -> Callable[[FakeIssue], bool]:
    parsed = _CLAUSE.match(clause)
    if parsed is None or parsed["field"] not in _MATCHERS:
        raise ValueError(f"fake jira does not understand the clause '{clause.strip()}'")
    value = parsed["quoted"] if parsed["quoted"] is not None else parsed["bare"]
    matcher = _MATCHERS[parsed["field"]]
    return lambda issue: matcher(issue, value)


_ROUTE_TABLE: list[tuple[tuple[str, ...], str, Callable[..., Reply]]] = [
    (("GET",), "serverInfo", FakeJira._server_info),
    (("GET",), "field", FakeJira._list_fields),
    (("POST",), "issue", FakeJira._create_issue),
    (("GET",), _REF, FakeJira._get_issue),
    (("PUT",), _REF, FakeJira._edit_issue),
    (("GET",), _REF + "/transitions", FakeJira._list_transitions),
    (("POST",), _REF + "/transitions", FakeJira._do_transition),
    (("POST",), _REF + "/comment", FakeJira._add_comment),
    (("GET", "POST"), "search", FakeJira._search),
    (("GET", "POST"), "search/jql", FakeJira._search_jql),
]
_ROUTES = [(methods, re.compile(_API + path), handler) for methods, path, handler in _ROUTE_TABLE]


def _route(request: RecordedRequest) -> tuple[Callable[..., Reply] | None, dict[str, str]]:
    for methods, pattern, handler in _ROUTES:
        match = pattern.fullmatch(request.path)
        if match and request.method in methods:
            return handler, match.groupdict()
    return None, {}
