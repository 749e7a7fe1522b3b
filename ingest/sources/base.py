"""What every vendor mapping returns, and the error for a payload of the wrong shape."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ingest.model import GenericIncident


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery mapped onto generic incidents (several for grouped alerts)."""

    incidents: list[GenericIncident]
    # The vendor's id of this delivery (repeats only when the vendor retries it).
    delivery_id: str | None = None
    notes: list[str] = field(default_factory=list)
    # The vendor account whose change this delivery reports, when the vendor says: a
    # change made by the account Fireline signs in as is Fireline's own, come back.
    changed_by: str | None = None


class PayloadShapeError(ValueError):
    """The body is JSON but not this source's shape; names every missing/invalid field."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(f"not a {source} payload: " + "; ".join(self.problems))


# (parsed JSON body, request headers with lower-case names, time received) -> Delivery.
# `received_at` only fills a start time the payload lacks; never put it in evidence, so
# an identical repeat maps to an identical result.
Mapper = Callable[[Any, Mapping[str, str], datetime], Delivery]
