"""Ingestion endpoints: one generic incident as JSON, or many as a CSV upload (DESIGN §5).

Both are rate limited per org after authentication and before the body is read.
"""

from __future__ import annotations

from typing import IO, Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from api.auth import Principal, Role, require_roles
from api.dependencies import IngestRateLimitDep, IngestServiceDep
from api.schemas.ingest import CsvImportOut, IngestOut
from core.errors import BadRequestError, UnsupportedMediaTypeError
from ingest.csv_rows import COLUMNS, REQUIRED_COLUMNS, CsvFileError, count_rows, decode_lines
from ingest.csv_rows import read_rows as read_csv_rows
from ingest.jsonbody import parse_json
from ingest.model import GenericIncident
from services.bulk_import import import_rows
from services.ingestion import RawPayload

router = APIRouter(prefix="/v1/incidents", tags=["ingestion"])

INGEST_PATH = "/v1/incidents/ingest"
UPLOAD_CSV_PATH = "/v1/incidents/upload-csv"
UPLOAD_FIELD = "file"

Ingester = Annotated[Principal, Depends(require_roles(Role.ANALYST, Role.ORG_ADMIN))]

_INGEST_DOC = {
    "requestBody": {
        "required": True,
        "description": "A generic incident (camelCase fields: sourceType, sourceRef, title, "
        "timeline, ...).",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}
_UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "description": f"multipart/form-data with the CSV in the field `{UPLOAD_FIELD}`. "
        f"Columns: {', '.join(COLUMNS)}; required: {', '.join(REQUIRED_COLUMNS)}.",
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {UPLOAD_FIELD: {"type": "string", "format": "binary"}},
                    "required": [UPLOAD_FIELD],
                }
            }
        },
    }
}


@router.post(
    "/ingest",
    responses={status.HTTP_201_CREATED: {"model": IngestOut}},
    openapi_extra=_INGEST_DOC,
)
async def ingest_incident(
    request: Request,
    response: Response,
    principal: Ingester,
    rate_limit: IngestRateLimitDep,
    ingest: IngestServiceDep,
) -> IngestOut:
    """Create or update the incident of (sourceType, sourceRef): 201 created, else 200."""
    rate_limit(principal.org)
    body = await request.body()
    content_type = request.headers.get("content-type")
    incident = _generic_incident(parse_json(body, content_type))
    outcome = await ingest.ingest(
        org_id=principal.org,
        actor=principal.sub,
        incident=incident,
        raw=RawPayload(body, content_type),
    )
    if outcome.status == "created":
        response.status_code = status.HTTP_201_CREATED
    return IngestOut.of(outcome)


@router.post("/upload-csv", response_model_exclude_none=True, openapi_extra=_UPLOAD_DOC)
async def upload_csv(
    request: Request,
    principal: Ingester,
    rate_limit: IngestRateLimitDep,
    ingest: IngestServiceDep,
) -> CsvImportOut:
    """Import every valid row; report each row (`row` 1 is the first line after the header)."""
    rate_limit(principal.org)
    _check_multipart(request.headers.get("content-type"))
    async with request.form(max_files=1, max_fields=10) as form:
        upload = _uploaded_file(form)
        await run_in_threadpool(_check_csv, upload.file)
        upload.file.seek(0)
        report = await import_rows(
            ingest,
            read_csv_rows(decode_lines(upload.file)),
            org_id=principal.org,
            actor=principal.sub,
        )
    return CsvImportOut.of(report)


def _generic_incident(document: Any) -> GenericIncident:
    """The validated incident; a 422 like any other body's (api/errors.py)."""
    try:
        return GenericIncident.model_validate(document)
    except ValidationError as err:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in err.errors(include_url=False)]
        ) from None


def _check_multipart(content_type: str | None) -> None:
    if (content_type or "").split(";", 1)[0].strip().lower() != "multipart/form-data":
        raise UnsupportedMediaTypeError(_how_to_upload("the request is not multipart/form-data"))


def _uploaded_file(form: FormData) -> UploadFile:
    upload = form.get(UPLOAD_FIELD)
    if not isinstance(upload, UploadFile):
        raise BadRequestError(_how_to_upload(f"no file in the form field {UPLOAD_FIELD!r}"))
    return upload


def _how_to_upload(problem: str) -> str:
    return (
        f"{problem}; send the CSV as multipart/form-data in the field {UPLOAD_FIELD!r}, "
        f"e.g. curl -F {UPLOAD_FIELD}=@incidents.csv"
    )


def _check_csv(file: IO[bytes]) -> int:
    """Read the whole file once (header, encoding, CSV syntax) before importing any row."""
    try:
        return count_rows(decode_lines(file))
    except CsvFileError as err:
        raise BadRequestError(str(err)) from None
