"""The baseline of bench/ingest.py: a FastAPI endpoint that only parses the same body.

`python -m bench.parse_only PORT` — validates the generic incident and answers, with no
authentication, database or dispatch, on the same server stack (uvicorn) as the API.
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI, status

from ingest.model import GenericIncident

app = FastAPI()


@app.post("/v1/incidents/ingest", status_code=status.HTTP_201_CREATED)
async def parse_only(body: GenericIncident) -> dict[str, str]:
    return {"incidentId": "none", "status": "created", "message": body.source_ref}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
