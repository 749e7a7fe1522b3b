"""A draft runbook for the kind of incident at hand: match keywords, service and severity
taken from it, a target, a read-only precheck, an approval-gated change with its
rollback, and a postcheck — placeholders an engineer edits and commits. Pure.

The incident's words only ever become data (name, description, keywords, services),
written with a YAML serializer; commands read the incident through templates, so they
are shell-quoted when a session renders them, and no incident text becomes a template.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from dsl.runbook_plan import SEVERITIES

MAX_KEYWORDS = 4
MAX_ID = 60
FALLBACK_ID = "draft-runbook"
SERVICE = "{{ inputs.service | default(incident.service, true) }}"
_STOPWORDS = frozenset(
    (  # noqa: SIM905 - a list of words reads better as words
        "a an and are as at be by for from has have in is it its of on or the this to was "
        "were with after above below over under than up all any every not no alert "
        "alerts firing triggered resolved incident error errors issue problem"
    ).split()
)
_WORD = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
_UNSAFE_IN_COMMENT = re.compile(r"[^A-Za-z0-9_.:-]+")


@dataclass(frozen=True)
class RunbookDraft:
    runbook_id: str
    file_name: str
    yaml: str


def draft_runbook(incident: Mapping[str, Any], *, taken: Collection[str] = ()) -> RunbookDraft:
    """`taken`: ids of loaded runbooks, which the draft's id must not be."""
    title = str(incident.get("title") or "").strip()
    runbook_id = _free(_slug(title), set(taken))
    header = (
        f"# Draft runbook written by Fireline from incident {_comment_safe(incident.get('id'))}.\n"
        "# Replace every TODO command with the real one, check the match and the target,\n"
        "# run `fireline lint` and commit it to the workflows directory.\n"
    )
    body = yaml.safe_dump(
        {"runbook": _runbook(runbook_id, title, incident)},
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    return RunbookDraft(runbook_id, f"{runbook_id}.yaml", header + body)


def _runbook(runbook_id: str, title: str, incident: Mapping[str, Any]) -> dict[str, Any]:
    service, severity = incident.get("service"), incident.get("severity")
    match: dict[str, Any] = {"keywords": keywords_of(title)}
    if isinstance(service, str) and service.strip():
        match["services"] = [service.strip()]
    if isinstance(severity, str) and severity.strip().upper() in SEVERITIES:
        match["severities"] = [severity.strip().upper()]
    return {
        "id": runbook_id,
        "name": f"Fix: {title}"[:200] if title else "Draft runbook",
        "description": f"Drafted from the incident '{title}'. Say what this runbook fixes."[:1000],
        "match": match,
        "inputs": [
            {"name": "host", "type": "string", "description": "Connection to run on"},
            {"name": "service", "type": "string", "description": "Default: the incident's"},
        ],
        "target": {"connection": "{{ inputs.host | default(incident.ci | default(''), true) }}"},
        "approval": {"roles": ["SRE_LEAD", "ONCALL_ENGINEER"], "timeout": "15m"},
        "prechecks": [
            {"name": "look", "run": f"echo TODO: show the state of {SERVICE}", "idempotent": True}
        ],
        "steps": [
            {
                "name": "fix",
                "run": f"echo TODO: change {SERVICE}",
                "requires_approval": True,
                "rollback": {"run": f"echo TODO: undo the change to {SERVICE}"},
            }
        ],
        "postchecks": [
            {"name": "verify", "run": f"echo TODO: prove {SERVICE} is healthy", "idempotent": True}
        ],
    }


def keywords_of(title: str) -> list[str]:
    """Up to MAX_KEYWORDS telling words of the title, in order: no stopwords, numbers
    or words of two letters or fewer ("5xx" and "eu-west-1" stay)."""
    words: list[str] = []
    for word in _WORD.findall(title.lower()):
        telling = len(word) > 2 and word not in _STOPWORDS and re.search("[a-z]", word)
        if telling and word not in words:
            words.append(word)
    return words[:MAX_KEYWORDS]


def _comment_safe(incident_id: Any) -> str:
    """The incident's id on one comment line: no line break can end the comment."""
    return _UNSAFE_IN_COMMENT.sub("_", str(incident_id or "?"))[:80]


def _free(runbook_id: str, taken: set[str]) -> str:
    candidates = [runbook_id] + [f"{runbook_id[: MAX_ID - 4]}-{n}" for n in range(2, 1000)]
    return next(c for c in candidates if c not in taken)


def _slug(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:MAX_ID].strip("-")
    return slug or FALLBACK_ID
