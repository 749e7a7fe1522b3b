"""The form-schema builder (/settings/form): an ORG_ADMIN adds, edits, reorders and removes
the fields of the org's create-incident form, previews it as the dialog will show it, and
saves it as a new version. Everyone else sees the form read-only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.dependencies import FormServiceDep
from console.form_builder import (
    KEYS,
    Row,
    edited,
    fields_of,
    posted_rows,
    rows_of,
    service_errors,
)
from console.pages import ADMINS, Person, render
from console.session import checked_form
from core.errors import FieldErrors, NotFoundError
from services.form_schema import FieldType, FormSchema

router = APIRouter(include_in_schema=False)


@router.get("/settings/form", response_class=HTMLResponse)
async def form_builder(
    request: Request, me: Person, forms: FormServiceDep, saved: int | None = None
) -> Response:
    try:
        current = await forms.current(org_id=me.org)
        name, rows = current.schema.name, rows_of(current.schema.fields)
        version: int | None = current.version.version
    except NotFoundError:
        name, rows, version = "Incident form", [], None
    return _builder(request, me, name, rows, version=version, saved=saved)


@router.post("/settings/form", response_class=HTMLResponse)
async def edit_form(request: Request, me: Person, forms: FormServiceDep) -> Response:
    posted = await checked_form(request)
    if not me.has_any_role(ADMINS):
        return render(request, "not_found.html", 404)
    name, action = posted.get("form_name", "").strip(), posted.get("action", "preview")
    rows = posted_rows(posted)
    if action not in ("preview", "save"):
        return _builder(request, me, name, edited(rows, action))
    fields, errors = fields_of(rows)
    if action == "preview" or errors:
        return _builder(request, me, name, rows, errors=errors, preview=fields)
    try:
        schema = FormSchema(name=name or "Incident form", fields=fields)
    except ValidationError:  # only the name is left to check: the fields passed above
        return _builder(request, me, name, rows, errors={"form_name": "at most 200 characters"})
    try:
        form, _ = await forms.save(org_id=me.org, actor=me.sub, schema=schema)
    except FieldErrors as refused:
        return _builder(request, me, name, rows, errors=service_errors(refused.problems))
    return RedirectResponse(f"/settings/form?saved={form.version.version}", status_code=303)


def _builder(
    request: Request,
    me: Person,
    name: str,
    rows: list[Row],
    *,
    errors: dict[str, str] | None = None,
    preview: list[Any] | None = None,
    version: int | None = None,
    saved: int | None = None,
) -> Response:
    return render(
        request,
        "form_builder.html",
        422 if errors else 200,
        form_name=name,
        rows=rows,
        keys=KEYS,
        types=[t.value for t in FieldType],
        errors=errors or {},
        preview=preview,
        version=version,
        saved=saved,
        can_change=me.has_any_role(ADMINS),
    )
