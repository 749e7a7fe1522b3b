"""A runbook for an incident, from the console: fill in its inputs, preview what a session
would run, and start it (the roles that may start sessions; the session page follows it).
Inputs travel as `in_<name>` fields, so a preview's address can be shared. The preview's
Execute form carries a key of its own: the same form sent twice (a double click, a
resend) starts one session."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.dependencies import RunbookCatalogDep, SessionServiceDep
from console.pages import Person, render
from console.session import checked_form
from console.sessions_page import STARTERS
from core.errors import FirelineError, NotFoundError
from dsl.plan import InputPlan
from services.runbook_catalog import RunbookCatalog

router = APIRouter(include_in_schema=False)
START_KEY = re.compile(r"[0-9a-f]{32}")


@router.get("/incidents/{incident_id}/runbooks/{runbook_id}/preview", response_class=HTMLResponse)
async def preview(
    request: Request,
    incident_id: str,
    runbook_id: str,
    me: Person,
    sessions: SessionServiceDep,
    catalog: RunbookCatalogDep,
) -> Response:
    declared, raw = _posted_inputs(catalog, runbook_id, request.query_params)
    try:
        inputs = typed_inputs(declared, raw)
        shown = await sessions.preview(me.org, incident_id, runbook_id, me.sub, inputs)
    except NotFoundError:
        return render(request, "not_found.html", 404)
    except (FirelineError, ValueError) as refused:
        return _refused(request, incident_id, runbook_id, refused, declared, raw)
    return render(
        request,
        "preview.html",
        preview=shown,
        incident_id=incident_id,
        runbook_id=runbook_id,
        inputs=declared,
        values=raw,
        can_start=me.has_any_role(STARTERS),
        start_key=uuid.uuid4().hex,
    )


@router.post("/incidents/{incident_id}/runbooks/{runbook_id}/execute")
async def execute(
    request: Request,
    incident_id: str,
    runbook_id: str,
    me: Person,
    sessions: SessionServiceDep,
    catalog: RunbookCatalogDep,
) -> Response:
    posted = await checked_form(request)
    if not me.has_any_role(STARTERS):
        return render(request, "not_found.html", 404)
    declared, raw = _posted_inputs(catalog, runbook_id, posted)
    try:
        inputs = typed_inputs(declared, raw)
        started = await sessions.start(
            me.org, incident_id, runbook_id, me.sub, inputs, request_key=_start_key(posted)
        )
    except NotFoundError:
        return render(request, "not_found.html", 404)
    except (FirelineError, ValueError) as refused:
        return _refused(request, incident_id, runbook_id, refused, declared, raw)
    return RedirectResponse(f"/sessions/{started.session_id}", status_code=303)


def _start_key(posted: Mapping[str, str]) -> str | None:
    """The preview form's key; a missing or forged one just starts a session."""
    key = posted.get("start_key", "")
    return f"console:{key}" if START_KEY.fullmatch(key) else None


def typed_inputs(declared: Sequence[InputPlan], raw: dict[str, str]) -> dict[str, Any]:
    """The posted strings as their declared types; blanks left out (defaults apply)."""
    values: dict[str, Any] = {}
    for spec in declared:
        text = raw.get(spec.name, "").strip()
        if spec.type == "boolean":
            values[spec.name] = text == "true"
        elif text and spec.type == "number":
            values[spec.name] = _number(spec.name, text)
        elif text and spec.type in ("object", "list"):
            values[spec.name] = _json(spec.name, text)
        elif text:
            values[spec.name] = text
    return values


def _number(name: str, text: str) -> float | int:
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"input {name}: '{text}' is not a number") from None
    return int(number) if number.is_integer() else number


def _json(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"input {name}: not JSON ({err.msg})") from None


def _posted_inputs(
    catalog: RunbookCatalog, runbook_id: str, fields: Mapping[str, str]
) -> tuple[tuple[InputPlan, ...], dict[str, str]]:
    """The runbook's declared inputs, and the `in_<name>` value given for each."""
    try:
        plan = catalog.get(runbook_id).plan
    except FirelineError:  # unknown: the session service says so
        plan = None
    declared = plan.inputs if plan is not None else ()
    return declared, {i.name: fields.get(f"in_{i.name}", "") for i in declared}


def _refused(
    request: Request,
    incident_id: str,
    runbook_id: str,
    why: Exception,
    inputs: Sequence[InputPlan],
    values: dict[str, str],
) -> Response:
    context = {"incident_id": incident_id, "runbook_id": runbook_id, "error": str(why)}
    return render(
        request, "preview.html", 422, preview=None, inputs=inputs, values=values, **context
    )
