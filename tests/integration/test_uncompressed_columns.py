"""Columns that hold bytes pglz cannot shrink (a PDF's deflated streams, a mail's base64) are stored without
PostgreSQL trying to (`STORAGE EXTERNAL`, migrations ERP 0026 and 0027, CRM 0011): read from the migrated databases
of the running stack. Text that does compress (the e-invoice XML) keeps the default."""

import asyncio

import asyncpg

from devstack.stack import Stack
from throughline_platform.db import asyncpg_dsn

STORAGE = """SELECT a.attstorage::text FROM pg_attribute a
             WHERE a.attrelid = $1::regclass AND a.attname = $2 AND NOT a.attisdropped"""


async def _storage(url: str, columns: list[tuple[str, str]]) -> list[str]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return [await conn.fetchval(STORAGE, table, column) for table, column in columns]
    finally:
        await conn.close()


def test_pdfs_and_mails_are_stored_without_a_compression_attempt(stack: Stack) -> None:
    erp = asyncio.run(_storage(stack.database_urls["erp"], [
        ("mail_outbox", "message"), ("invoice_documents", "pdf"), ("invoice_documents", "e_invoice_xml")]))
    crm = asyncio.run(_storage(stack.database_urls["crm"], [("mail_outbox", "message")]))
    assert erp == ["e", "e", "x"]  # e: EXTERNAL (out of line, uncompressed); x: EXTENDED, the default
    assert crm == ["e"]
