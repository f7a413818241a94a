"""Public lead capture (POST /api/crm/lead-capture): who may post, from which web pages, how often, and what a
website form gets back.

A caller is one of: a capture key (stored by the CRM, hashed, with the origins whose pages may use it; sent as the
`capture_key` field of a form post or as `X-API-Key`), a key from `CRM_LEAD_CAPTURE_KEYS`, or a gateway-signed
token whose role may capture (the gateway's API keys arrive as such tokens). JSON posts get 202 `{id, status}`;
form posts (`application/x-www-form-urlencoded`, `multipart/form-data`) are answered for a browser: a redirect to
the key's thank-you URL, or a short page, and their errors as a page too. A `submission_id` makes a repeated post
of one filled-in form create one lead.
"""

import hashlib
import hmac
import html
import json
import math
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from crm.db import utcnow
from crm.leads.models import CaptureKey
from crm.leads.repository import CaptureKeyRepository, LeadRepository
from crm.leads.schemas import CaptureKeyIn, CaptureKeyPatch, CaptureOut, LeadCaptureIn
from crm.leads.service import add_lead
from crm.policy import POLICY, Action
from crm.settings import get_settings
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import TokenVerifier, bearer_token
from throughline_platform.problems import Forbidden, NotFound, ProblemError, Unauthorized, problem_response

KEY_PREFIX = "tlc_"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# A form field that carries the key rather than lead data.
KEY_FIELD = "capture_key"
LEAD_FIELDS = frozenset(LeadCaptureIn.model_fields)
PREFLIGHT_MAX_AGE = "600"


class TooManyRequests(ProblemError):
    status, type_slug, title = 429, "rate-limited", "Too many requests"


class UnsupportedMediaType(ProblemError):
    status, type_slug, title = 415, "unsupported-media-type", "Unsupported media type"


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self) -> None:
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str, per_minute: int, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        capacity = float(max(1, per_minute))
        rate = capacity / 60.0
        bucket = self._buckets.setdefault(key, _Bucket(capacity, now))
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens < 1:
            retry_after = math.ceil((1 - bucket.tokens) / rate)
            raise TooManyRequests(f"Lead capture is limited to {per_minute} requests a minute per key; retry in "
                                  f"{retry_after} s.", retry_after=retry_after)
        bucket.tokens -= 1


LIMITER = RateLimiter()


@dataclass(frozen=True)
class CaptureCaller:
    identity: str  # the rate-limit bucket and the namespace of submission ids
    key: CaptureKey | None = None  # a stored capture key (the only kind with allowed origins and a thank-you URL)


def hash_key(raw: str) -> str:
    # Keys carry 192 random bits: a fast hash is as good as a slow one here.
    return hashlib.sha256(raw.encode()).hexdigest()


async def capture_caller(uow: UnitOfWork, request: Request, raw_key: str | None) -> CaptureCaller:
    """Who posts: a stored capture key, a configured key, or a gateway-signed token whose role may capture."""
    if raw_key:
        for known in get_settings().capture_keys():
            if hmac.compare_digest(raw_key.encode(), known.encode()):
                return CaptureCaller("key:" + hashlib.sha256(known.encode()).hexdigest()[:16])
        key = await CaptureKeyRepository(uow.session).live_by_hash(hash_key(raw_key))
        if key is not None:
            return CaptureCaller(f"capture-key:{key.id}", key)
        raise Unauthorized("The capture key is unknown or revoked.", type_slug="capture-key-invalid")
    if request.headers.get("authorization"):
        verifier: TokenVerifier = request.app.state.verifier
        principal = verifier.verify(bearer_token(request))
        if POLICY.allows(principal.role, Action.LEADS_CAPTURE):
            return CaptureCaller(f"{principal.kind}:{principal.user_id}")
        raise Unauthorized("Lead capture needs a sales or API-key token.", type_slug="capture-key-invalid")
    raise Unauthorized("Lead capture needs a capture key (the form's capture_key field, or an X-API-Key header).",
                       type_slug="capture-key-invalid")


def check_origin(caller: CaptureCaller, origin: str | None) -> None:
    """A page may post with a stored key only from the key's allowed origins (a request without an Origin comes
    from a server, not a browser: the key is all it needs)."""
    if caller.key is None or origin is None:
        return
    if origin.lower() not in caller.key.allowed_origins:
        raise Forbidden(f"Pages of {origin} may not post with this capture key; add the origin to the key's allowed "
                        "origins.", type_slug="origin-not-allowed")


async def cors_origin(uow: UnitOfWork, origin: str | None) -> str | None:
    """The origin to allow in CORS headers: one that some live capture key allows, else none."""
    if not origin or len(origin) > 300:
        return None
    return origin if await CaptureKeyRepository(uow.session).origin_allowed(origin.lower()) else None


def cors_headers(origin: str | None, *, preflight: bool = False) -> dict[str, str]:
    if origin is None:
        return {"Vary": "Origin"}
    headers = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    if preflight:
        headers |= {"Access-Control-Allow-Methods": "POST", "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
                    "Access-Control-Allow-Headers": "content-type, x-api-key"}
    return headers


def is_form(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() in FORM_TYPES


async def read_submission(request: Request) -> tuple[dict[str, Any], str | None]:
    """The posted fields and the capture key (form field or header). Form fields other than the lead's are
    ignored (a website's form may carry its own, such as its framework's CSRF token); empty ones are absent."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    header_key = request.headers.get("x-api-key")
    if media_type in FORM_TYPES:
        form = await request.form()
        raw_key = str(form.get(KEY_FIELD) or "") or header_key
        fields = {name: value.strip() for name, value in form.items()
                  if name in LEAD_FIELDS and isinstance(value, str) and value.strip()}
        return fields, raw_key
    if media_type in ("application/json", ""):
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            raise RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error",
                                           "input": None}]) from None
        if not isinstance(body, dict):
            raise RequestValidationError([{"type": "model_attributes_type", "loc": ("body",),
                                           "msg": "Input should be a JSON object", "input": None}])
        return body, header_key
    raise UnsupportedMediaType(f"Post the lead as application/json or as a form ({', '.join(FORM_TYPES)}), "
                               f"not {media_type}.")


def validated(fields: dict[str, Any]) -> LeadCaptureIn:
    try:
        return LeadCaptureIn.model_validate(fields)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None


async def capture_lead(uow: UnitOfWork, caller: CaptureCaller, data: LeadCaptureIn) -> CaptureOut:
    """Create the lead, unless this submission was received before: then answer with the first one's."""
    fields = data.model_dump(exclude={"submission_id"})
    lead_id = uuid.uuid4()
    if data.submission_id:
        first = await CaptureKeyRepository(uow.session).claim_submission(
            f"{caller.identity}/{data.submission_id}", lead_id, utcnow())
        if first is not None:
            existing = await LeadRepository(uow.session).get(first)
            return CaptureOut(id=first, status=existing.status if existing else "new", duplicate=True)
    lead = await add_lead(uow, fields, created_by=caller.identity, lead_id=lead_id)
    await uow.commit()
    return CaptureOut(id=lead.id, status=lead.status)


# --- answers for a browser's form post ------------------------------------------------------------------------


def _page(title: str, body: str, status: int, headers: dict[str, str]) -> HTMLResponse:
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1a1f2b}}
h1{{font-size:1.4rem}}</style></head>
<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"""
    return HTMLResponse(document, status_code=status, headers=headers)


def thank_you(caller: CaptureCaller, headers: dict[str, str]) -> Response:
    if caller.key is not None and caller.key.thank_you_url:
        return RedirectResponse(caller.key.thank_you_url, status_code=303, headers=headers)
    return _page("Thank you", "<p>We have received your message and will be in touch soon.</p>", 200, headers)


def form_problem(exc: ProblemError | RequestValidationError, headers: dict[str, str]) -> HTMLResponse:
    if isinstance(exc, RequestValidationError):
        items = "".join(f"<li>{html.escape(str(e['loc'][-1]) if e['loc'] else 'form')}: {html.escape(e['msg'])}</li>"
                        for e in exc.errors())
        return _page("Please check the form", f"<ul>{items}</ul><p>Go back, correct these fields and send the form "
                     "again.</p>", 422, headers)
    if isinstance(exc, TooManyRequests) and exc.extensions.get("retry_after"):
        headers = {**headers, "Retry-After": str(exc.extensions["retry_after"])}
    return _page("The form could not be sent", f"<p>{html.escape(exc.detail)}</p>", exc.status, headers)


def json_problem(exc: ProblemError | RequestValidationError, headers: dict[str, str]) -> Response:
    """The problem document the app's handlers would write, with the CORS headers (a page's script may read it)."""
    if isinstance(exc, RequestValidationError):
        errors = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"], "type": e["type"]}
                  for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem_response(422, "Invalid request", detail, "validation-error", headers=headers, errors=errors)
    if isinstance(exc, TooManyRequests) and exc.extensions.get("retry_after"):
        headers = {**headers, "Retry-After": str(exc.extensions["retry_after"])}
    return problem_response(exc.status, exc.title, exc.detail, exc.type_slug, headers=headers, **exc.extensions)


# --- managing the keys -------------------------------------------------------------------------------------


async def create_key(uow: UnitOfWork, data: CaptureKeyIn, created_by: str) -> tuple[CaptureKey, str]:
    raw = KEY_PREFIX + secrets.token_urlsafe(24)
    now = utcnow()
    key = CaptureKey(id=uuid.uuid4(), name=data.name, prefix=raw[:len(KEY_PREFIX) + 6], key_hash=hash_key(raw),
                     allowed_origins=sorted(set(data.allowed_origins)), thank_you_url=data.thank_you_url,
                     created_by=created_by, created_at=now, updated_at=now)
    CaptureKeyRepository(uow.session).add(key)
    await uow.commit()
    return key, raw


async def update_key(uow: UnitOfWork, key_id: uuid.UUID, patch: CaptureKeyPatch) -> CaptureKey:
    key = await _live_key(uow, key_id)
    changes = patch.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is not None:
        key.name = changes["name"]
    if "allowed_origins" in changes:
        key.allowed_origins = sorted(set(changes["allowed_origins"] or []))
    if "thank_you_url" in changes:
        key.thank_you_url = changes["thank_you_url"]
    key.updated_at = utcnow()
    await uow.commit()
    return key


async def revoke_key(uow: UnitOfWork, key_id: uuid.UUID) -> CaptureKey:
    """Revoked at once: the next post with it is refused. The row stays (its leads name it as their creator)."""
    key = await _live_key(uow, key_id)
    key.revoked_at = key.updated_at = utcnow()
    await uow.commit()
    return key


async def _live_key(uow: UnitOfWork, key_id: uuid.UUID) -> CaptureKey:
    key = await CaptureKeyRepository(uow.session).get(key_id)
    if key is None or key.revoked_at is not None:
        raise NotFound(f"Capture key {key_id} does not exist or is revoked.")
    return key
