"""The "Sent mail" page's API (admin only): the messages the embedded SMTP server of `make run` and the tests kept
as `.eml` files under $THROUGHLINE_VAR/mail (GATEWAY_SENT_MAIL_DIR). Off, 404, where that is not set: with a real
SMTP server the mail went out, and nothing keeps a copy here."""

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from gateway.openapi_support import problem_responses
from gateway.policy import SentMailReader
from gateway.settings import get_settings
from throughline_platform.mail.mailbox import list_received, read_received, received_files
from throughline_platform.problems import NotFound

router = APIRouter(prefix="/api/mail/sent", tags=["sent mail"])


class SentMailOut(BaseModel):
    name: str
    received_at: datetime
    message_id: str | None
    sender: str
    to: list[str]
    subject: str
    attachments: list[str]
    size: int


class SentMailPage(BaseModel):
    items: list[SentMailOut]
    total: int
    limit: int
    offset: int
    directory: str


class AttachmentOut(BaseModel):
    filename: str
    content_type: str
    size: int


class SentMailDetail(SentMailOut):
    text: str | None
    html: str | None
    parts: list[AttachmentOut]


def _directory() -> Path:
    configured = get_settings().sent_mail_dir
    if not configured:
        raise NotFound("The Sent mail page is off: mail goes to a real SMTP server, and no copy is kept here.",
                       type_slug="sent-mail-off")
    return Path(configured)


@router.get("", response_model=SentMailPage, summary="What the development SMTP server received, newest first",
            responses=problem_responses(401, 403, 404))
async def list_sent(principal: SentMailReader, limit: Annotated[int, Query(ge=1, le=200)] = 50,
                    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> SentMailPage:
    directory = _directory()

    def read() -> tuple[list[SentMailOut], int]:
        mails = list_received(directory, limit=limit, offset=offset)
        return ([SentMailOut(name=m.name, received_at=m.received_at, message_id=m.message_id, sender=m.sender,
                             to=list(m.to), subject=m.subject, attachments=list(m.attachments), size=m.size)
                 for m in mails], len(received_files(directory)))

    items, total = await asyncio.to_thread(read)
    return SentMailPage(items=items, total=total, limit=limit, offset=offset, directory=str(directory))


@router.get("/{name}", response_model=SentMailDetail, summary="One received message: its text and its parts",
            responses=problem_responses(401, 403, 404))
async def get_sent(name: str, principal: SentMailReader) -> SentMailDetail:
    directory = _directory()
    try:
        summary = next(m for m in await asyncio.to_thread(list_received, directory, limit=1_000_000)
                       if m.name == name)
        message = await asyncio.to_thread(read_received, directory, name)
    except (StopIteration, FileNotFoundError):
        raise NotFound(f"No message {name!r} was received.") from None
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    parts = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        parts.append(AttachmentOut(filename=part.get_filename() or "", content_type=part.get_content_type(),
                                   size=len(payload) if isinstance(payload, bytes) else 0))
    return SentMailDetail(
        name=summary.name, received_at=summary.received_at, message_id=summary.message_id, sender=summary.sender,
        to=list(summary.to), subject=summary.subject, attachments=list(summary.attachments), size=summary.size,
        text=text.get_content() if text is not None else None, html=html.get_content() if html is not None else None,
        parts=parts)


@router.get("/{name}/raw", response_class=Response, summary="One received message as it arrived (.eml)",
            responses={**problem_responses(401, 403, 404), 200: {"content": {"message/rfc822": {}}}})
async def raw_sent(name: str, principal: SentMailReader) -> Response:
    directory = _directory()
    if name not in {p.name for p in await asyncio.to_thread(received_files, directory)}:
        raise NotFound(f"No message {name!r} was received.")
    data = await asyncio.to_thread((directory / name).read_bytes)
    return Response(data, media_type="message/rfc822",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
