"""Which configuration items (servers, CIs) a ticket names, and the connection each resolves
to, with the rule that found it. Pure.

Names come from, in this order: the ticket's `ci_association` (top level, `meta_data`,
custom fields or enrichments), its service, and host-like words in its description and
title — IPv4 addresses, dotted host names, names ending in a number (`web-01`, `db7`) —
plus any connection name or host mentioned there. Each resolves to the connection of
that name, else the one with that host, else to none (with what to do about it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.connections import ConnectionView
from services.session_target import (
    HOW_TO_CREATE,
    by_host,
    by_name,
    ci_associations,
    ci_names,
    mention,
)

_IPV4 = r"(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}"
_DOTTED = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}"
_NUMBERED = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*?-?\d+"
_HOST_LIKE = re.compile(rf"(?<![\w.\-/])(?:{_IPV4}|{_DOTTED}|{_NUMBERED})(?![\w\-]|\.\w)", re.I)
# Dotted words that name files, units or versions, not machines.
_NOT_HOSTS = re.compile(
    r"\.(log|conf|cfg|ini|py|sh|txt|ya?ml|json|xml|service|socket|timer|jar|gz|zip|tar)$|"
    r"^(sev|p|v|http|https|tls|ipv|x)\d+$",
    re.I,
)


@dataclass(frozen=True)
class ExtractedName:
    name: str
    found_in: str  # ci_association (where) | service | description | title
    connection: str | None
    kind: str | None
    rule: str


def extract_ci(
    ticket: Mapping[str, Any], connections: Sequence[ConnectionView]
) -> list[ExtractedName]:
    """Every name the ticket gives, first mention first, each resolved."""
    seen: set[str] = set()
    found: list[ExtractedName] = []
    for where, name in _names(ticket, connections):
        if name.casefold() not in seen:
            seen.add(name.casefold())
            found.append(_resolved(name, where, connections))
    return found


def _names(
    ticket: Mapping[str, Any], connections: Sequence[ConnectionView]
) -> Iterator[tuple[str, str]]:
    for where, value in _associations(ticket):
        for name in ci_names(value):
            yield f"ci_association ({where})", name
    service = ticket.get("service")
    if isinstance(service, str) and service.strip():
        yield "service", service.strip()
    for field in ("description", "title"):
        text = ticket.get(field)
        if isinstance(text, str) and text:
            for name in _mentioned(text, connections):
                yield field, name


def _associations(ticket: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    if ticket.get("ci_association") is not None:
        yield "ticket", ticket["ci_association"]
    meta = ticket.get("meta_data")
    if isinstance(meta, Mapping) and meta.get("ci_association") is not None:
        yield "meta_data", meta["ci_association"]
    yield from ci_associations(ticket)


def _mentioned(text: str, connections: Sequence[ConnectionView]) -> list[str]:
    """Host-like words and known connection names or hosts, in the order they appear."""
    positions = [
        (m.start(), m.group(0).rstrip("."))
        for m in _HOST_LIKE.finditer(text)
        if not _NOT_HOSTS.search(m.group(0))
    ]
    for connection in connections:
        for word in [connection.name, connection.host]:
            if word and (position := mention(word, text)) is not None:
                positions.append((position, word))
    return [name for _, name in sorted(positions)]


def _resolved(name: str, where: str, connections: Sequence[ConnectionView]) -> ExtractedName:
    named = by_name(name, connections)
    if named is not None:
        rule = f"'{name}' is the name of connection '{named.name}'"
        return ExtractedName(name, where, named.name, named.kind.value, rule)
    hosted = by_host(name, connections)
    if hosted is not None:
        rule = f"'{name}' is the host of connection '{hosted.name}'"
        return ExtractedName(name, where, hosted.name, hosted.kind.value, rule)
    rule = f"no connection has the name or host '{name}'; {HOW_TO_CREATE}"
    return ExtractedName(name, where, None, None, rule)
