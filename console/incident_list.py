"""The incident list's view as the URL carries it (filters, sort, page), so a view can be
shared by copying the address; and the org's enrichment columns with their headings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from store.records import IncidentFilters

STATUSES = ("OPEN", "INVESTIGATING", "MITIGATED", "RESOLVED", "CANCELLED")
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
SORTS = {
    "-created_at": "newest first",
    "created_at": "oldest first",
    "severity": "most severe first",
    "-updated_at": "recently changed",
}
PAGE_SIZES = ("10", "25", "50", "100")
COLUMN_HEADINGS = {"ticket_id": "Ticket", "target_project": "Project", "priority": "Priority"}
BADGE_COLUMNS = frozenset({"target_project", "priority"})


@dataclass(frozen=True)
class ListView:
    q: str = ""
    status: str = ""
    severity: str = ""
    source: str = ""
    service: str = ""
    project: str = ""
    tag: str = ""
    since: str = ""  # YYYY-MM-DD, from the start of that day (UTC)
    until: str = ""  # YYYY-MM-DD, to the end of that day (UTC)
    sort: str = "-created_at"
    per_page: str = "50"
    cursor: str = ""

    @classmethod
    def of(cls, query: Mapping[str, str]) -> tuple[ListView, list[str]]:
        """The view the query asks for, and what in it was ignored (and why)."""
        values = {f.name: query.get(f.name, "").strip()[:200] for f in fields(cls)}
        values["status"], values["severity"] = values["status"].upper(), values["severity"].upper()
        problems = []
        choices = (
            ("status", STATUSES),
            ("severity", SEVERITIES),
            ("sort", SORTS),
            ("per_page", PAGE_SIZES),
        )
        for name, allowed in choices:
            if values[name] and values[name] not in allowed:
                problems.append(f"{name} '{values[name]}' is not one of {', '.join(allowed)}")
                values[name] = ""
        for name in ("since", "until"):
            if values[name] and _day(values[name]) is None:
                problems.append(f"{name} '{values[name]}' is not a date (YYYY-MM-DD)")
                values[name] = ""
        defaults = {"sort": values["sort"] or "-created_at", "per_page": values["per_page"] or "50"}
        return cls(**values | defaults), problems

    def filters(self) -> IncidentFilters:
        since, until = _day(self.since), _day(self.until)
        return IncidentFilters(
            statuses=(self.status,) if self.status else (),
            severities=(self.severity,) if self.severity else (),
            source_types=(self.source,) if self.source else (),
            service=self.service or None,
            project_id=self.project or None,
            tag=self.tag or None,
            since=since,
            until=until + timedelta(days=1) if until else None,
            text=self.q or None,
        )

    def query(self, **changes: str) -> str:
        """This view's query string, with `changes`; empty and default values left out."""
        values = {f.name: getattr(self, f.name) for f in fields(self)} | changes
        defaults = {f.name: f.default for f in fields(self)}
        kept = {k: v for k, v in values.items() if v and v != defaults[k]}
        return urlencode(kept)


def column_heading(key: str) -> str:
    return COLUMN_HEADINGS.get(key) or key.replace("_", " ").capitalize()


def _day(text: str) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
    except ValueError:
        return None
