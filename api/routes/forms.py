"""The org's incident form: read by every member, changed by ORG_ADMIN, every change kept."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from api.auth import Principal, Role, require_roles
from api.body import require_json_content_type
from api.dependencies import CurrentPrincipal, FormServiceDep
from api.schemas.forms import FormHistoryOut, FormSchemaIn, FormSchemaOut, FormVersionOut

router = APIRouter(
    prefix="/v1/incidents/form-schema",
    tags=["incident forms"],
    dependencies=[Depends(require_json_content_type)],
)

Admin = Annotated[Principal, Depends(require_roles(Role.ORG_ADMIN))]


@router.get("")
async def get_form(
    principal: CurrentPrincipal,
    forms: FormServiceDep,
    history: Annotated[bool, Query(description="list every version instead")] = False,
) -> FormSchemaOut | FormHistoryOut:
    if history:
        versions = await forms.history(org_id=principal.org)
        return FormHistoryOut(versions=[FormVersionOut.of(version) for version in versions])
    return FormSchemaOut.of(await forms.current(org_id=principal.org))


@router.get("/json-schema")
async def get_json_schema(principal: CurrentPrincipal, forms: FormServiceDep) -> dict[str, Any]:
    """The enrichments object as JSON Schema (2020-12), for editors and the console."""
    return await forms.json_schema(org_id=principal.org)


@router.post("", responses={status.HTTP_201_CREATED: {"model": FormSchemaOut}})
async def save_form(
    body: FormSchemaIn, response: Response, principal: Admin, forms: FormServiceDep
) -> FormSchemaOut:
    """Replace the org's form (201 when it had none); the previous one stays in the history."""
    form, created = await forms.save(
        org_id=principal.org, actor=principal.sub, schema=body.to_schema()
    )
    if created:
        response.status_code = status.HTTP_201_CREATED
    return FormSchemaOut.of(form)


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def delete_form(principal: Admin, forms: FormServiceDep) -> None:
    """Remove the form: incidents are created without checks again; the history keeps it."""
    await forms.delete(org_id=principal.org, actor=principal.sub)
