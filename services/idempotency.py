"""Idempotency-Key: a retried request gets the first answer instead of running again.

The key belongs to the caller's org. The first request with a key claims it, runs, and
keeps its answer when that answer is final: a success, or a refusal that a retry would
only repeat (403, 404, 409, 422). Any other outcome (a 5xx, an exception) releases the
key, so the retry runs again. A request with the same key:

- and the same fingerprint (method, path, caller, body) gets the kept answer, replayed;
- while the first is still running, is refused with 409 (retry in a moment); the first
  renews its claim as it runs, so a claim whose process died is taken over by the next
  request once ABANDONED_AFTER has passed without a renewal;
- but a different fingerprint is refused with 422: the key was used for something else.

Keys are forgotten 24 hours after their first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core.errors import BadRequestError, ConflictError, InvalidInputError
from core.ids import utcnow
from store import idempotency
from store.db import Database
from store.idempotency import IdempotencyRecord

log = logging.getLogger("fireline.idempotency")

KEY_TTL = timedelta(hours=24)
# A claim in progress not renewed for this long belongs to a process that died
# mid-request; the next request with the key takes it over. The claimant renews it
# several times per period, so one slow renewal does not lose a live claim.
ABANDONED_AFTER = timedelta(seconds=30)
RENEWALS_PER_PERIOD = 3
MAX_KEY_LENGTH = 255
# Refusals that a retry of the same request would only repeat: kept and replayed.
FINAL_REFUSALS = frozenset({403, 404, 409, 422})


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: Any  # JSON-ready
    replayed: bool = False

    @property
    def is_final(self) -> bool:
        return 200 <= self.status_code < 300 or self.status_code in FINAL_REFUSALS


Action = Callable[[], Awaitable[Answer]]


def checked_key(key: str) -> str:
    """The key when it is 1..255 printable ASCII characters; BadRequestError otherwise."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(" " <= c <= "~" for c in key):
        raise BadRequestError(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters; "
            "send a unique value per request, e.g. a UUID"
        )
    return key


def fingerprint(method: str, path: str, subject: str, body: Any) -> str:
    """What makes two requests the same: sha256 of method, path, caller and JSON body."""
    canonical = json.dumps(
        [method.upper(), path, subject, body],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class IdempotencyService:
    def __init__(
        self,
        db: Database,
        *,
        ttl: timedelta = KEY_TTL,
        abandoned_after: timedelta = ABANDONED_AFTER,
    ) -> None:
        self._db = db
        self._ttl = ttl
        self._abandoned_after = abandoned_after

    async def run(self, org: str, key: str, request_fingerprint: str, action: Action) -> Answer:
        """The first answer for `key`, replayed; else run `action` under the key."""
        kept = await self._claim(org, key, request_fingerprint)
        if kept is not None:
            return kept
        try:
            async with self._renewing(org, key, request_fingerprint):
                answer = await action()
        except BaseException:
            await self._release(org, key, request_fingerprint)
            raise
        if answer.is_final:
            await self._store(org, key, request_fingerprint, answer)
        else:
            await self._release(org, key, request_fingerprint)
        return answer

    async def _claim(self, org: str, key: str, request_fingerprint: str) -> Answer | None:
        now = utcnow()
        async with self._db.session() as session:
            held = await idempotency.claim_key(
                session,
                org_id=org,
                key=key,
                fingerprint=request_fingerprint,
                now=now,
                forget_before=now - self._ttl,
                abandoned_before=now - self._abandoned_after,
            )
        return None if held is None else _replay(held, key, request_fingerprint)

    @contextlib.asynccontextmanager
    async def _renewing(self, org: str, key: str, request_fingerprint: str) -> AsyncIterator[None]:
        renewer = asyncio.create_task(self._keep_renewed(org, key, request_fingerprint))
        try:
            yield
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

    async def _keep_renewed(self, org: str, key: str, request_fingerprint: str) -> None:
        interval = self._abandoned_after.total_seconds() / RENEWALS_PER_PERIOD
        while True:
            await asyncio.sleep(interval)
            try:
                async with self._db.session() as session:
                    await idempotency.renew_claim(
                        session, org_id=org, key=key, fingerprint=request_fingerprint, now=utcnow()
                    )
            except Exception as err:  # the request goes on; the next renewal may work
                log.warning("renewing Idempotency-Key %r failed: %s", key, err)

    async def _store(self, org: str, key: str, request_fingerprint: str, answer: Answer) -> None:
        async with self._db.session() as session:
            await idempotency.store_answer(
                session,
                org_id=org,
                key=key,
                fingerprint=request_fingerprint,
                status_code=answer.status_code,
                response=answer.body,
            )

    async def _release(self, org: str, key: str, request_fingerprint: str) -> None:
        async with self._db.session() as session:
            await idempotency.release_key(
                session, org_id=org, key=key, fingerprint=request_fingerprint
            )


def _replay(held: IdempotencyRecord, key: str, request_fingerprint: str) -> Answer:
    if held.fingerprint != request_fingerprint:
        raise InvalidInputError(
            f"Idempotency-Key '{key}' was already used for a different request; "
            "use a new key for a new request"
        )
    if held.status_code is None:
        raise ConflictError(
            "a request with this Idempotency-Key is still being handled; retry in a moment"
        )
    return Answer(held.status_code, held.response, replayed=True)
