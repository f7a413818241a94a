"""CSV import and export of companies, contacts, leads and deals.

Import: the file must be UTF-8 CSV with a header naming known columns; a file that cannot be parsed is
refused whole (422). Each row is validated by the same schema and rules as the API and written in its own
savepoint, so a row is imported completely or not at all; failed rows are reported with their line number.
With `all_or_nothing`, one failed row refuses the whole file.

Export: every cell is written through `throughline_platform.csv_safety`, so none runs as a formula in the
spreadsheet that opens the file; the import undoes that (`restore`), so an exported file imports as it was."""

import csv
import io
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from crm.companies.api import (
    Company,
    CompanyIn,
    CompanyRepository,
    Contact,
    ContactIn,
    ContactRepository,
    add_company,
    add_contact,
)
from crm.deals.api import Deal, DealIn, add_deal
from crm.leads.api import Lead, LeadIn, add_lead
from crm.pipelines.api import Pipeline, Stage
from throughline_events.money import round_money
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.csv_safety import csv_writer, restore
from throughline_platform.problems import ProblemError, Unprocessable

Entity = Literal["companies", "contacts", "leads", "deals"]
MAX_ROWS = 10_000
# A deal's billing cell is JSON: billing terms are a few hundred characters, never deeply nested (milestones are a
# list of objects: depth 3). The bounds keep a hostile cell (1,100 nested brackets) from reaching json.loads, whose
# recursion it would exhaust (a RecursionError: a 500 before this check).
MAX_JSON_CELL_CHARS = 20_000
MAX_JSON_DEPTH = 8

COLUMNS: dict[str, tuple[str, ...]] = {
    "companies": ("name", "domain", "email", "phone", "address", "industry", "size", "owner_id"),
    "contacts": ("first_name", "last_name", "email", "phone", "title", "company_id", "company_domain", "owner_id"),
    "leads": ("first_name", "last_name", "email", "phone", "title", "company_name", "company_domain", "company_size",
              "message", "source", "owner_id", "status"),
    "deals": ("title", "company_id", "company_domain", "contact_email", "amount", "currency", "pipeline", "stage",
              "owner_id", "expected_close_date", "billing"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "companies": ("name",), "contacts": ("first_name",), "leads": (), "deals": ("title", "amount", "currency"),
}
# Written by the export, ignored by the import (so an exported file can be imported elsewhere).
EXPORT_ONLY: dict[str, tuple[str, ...]] = {
    "companies": ("id", "created_at"), "contacts": ("id", "created_at"),
    "leads": ("id", "score", "created_at"), "deals": ("id", "status", "created_at"),
}


class RowError(BaseModel):
    row: int
    field: str | None
    message: str


class ImportResult(BaseModel):
    entity: str
    rows: int
    imported: int
    failed: int
    ids: list[uuid.UUID]
    errors: list[RowError]


class _RowFailed(Exception):
    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def parse(entity: Entity, raw: bytes) -> list[tuple[int, dict[str, str]]]:
    """The file's rows as (line number, {column: value}); refuses a file that is not well-formed CSV."""
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unprocessable(f"The file is not UTF-8 text (byte {exc.start}).", type_slug="malformed-csv") from None
    if not content.strip():
        raise Unprocessable("The file is empty; the first line names the columns.", type_slug="malformed-csv")
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    try:
        header = [h.strip().lower() for h in next(reader)]
        known = set(COLUMNS[entity]) | set(EXPORT_ONLY[entity])
        unknown = [h for h in header if h not in known]
        if unknown:
            raise Unprocessable(f"Unknown columns {unknown}; {entity} take {list(COLUMNS[entity])}.",
                                type_slug="malformed-csv")
        if len(set(header)) != len(header):
            raise Unprocessable("A column is named twice in the header.", type_slug="malformed-csv")
        missing = [c for c in REQUIRED[entity] if c not in header]
        if missing:
            raise Unprocessable(f"Missing required columns {missing}.", type_slug="malformed-csv")
        rows: list[tuple[int, dict[str, str]]] = []
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue  # blank line
            if len(rows) >= MAX_ROWS:
                raise Unprocessable(f"At most {MAX_ROWS} rows per import.", type_slug="too-many-rows")
            if len(values) != len(header):
                rows.append((line, {"__error__": f"expected {len(header)} values, found {len(values)}"}))
                continue
            rows.append((line, {h: restore(v).strip() for h, v in zip(header, values, strict=True)
                                if h not in EXPORT_ONLY[entity]}))
    except csv.Error as exc:
        raise Unprocessable(f"Malformed CSV at line {reader.line_num}: {exc}.", type_slug="malformed-csv") from None
    return rows


async def import_rows(uow: UnitOfWork, entity: Entity, rows: list[tuple[int, dict[str, str]]],
                      principal: Principal, *, all_or_nothing: bool) -> ImportResult:
    handler = _HANDLERS[entity]
    errors: list[RowError] = []
    ids: list[uuid.UUID] = []
    for line, row in rows:
        try:
            if "__error__" in row:
                raise _RowFailed(None, row["__error__"])
            async with uow.session.begin_nested():
                ids.append(await handler(uow, {k: v for k, v in row.items() if v != ""}, principal))
        except _RowFailed as exc:
            errors.append(RowError(row=line, field=exc.field, message=exc.message))
        except ValidationError as exc:
            first = exc.errors()[0]
            errors.append(RowError(row=line, field=".".join(str(p) for p in first["loc"]) or None,
                                   message=first["msg"]))
        except ProblemError as exc:
            errors.append(RowError(row=line, field=None, message=exc.detail))
    result = ImportResult(entity=entity, rows=len(rows), imported=len(ids), failed=len(errors), ids=ids,
                          errors=errors)
    if errors and all_or_nothing:
        raise Unprocessable(f"{len(errors)} of {len(rows)} rows are invalid; nothing was imported.",
                            type_slug="import-rejected", errors=[e.model_dump() for e in errors[:100]])
    await uow.commit()
    return result


async def _company(uow: UnitOfWork, row: dict[str, str], principal: Principal) -> uuid.UUID:
    company = await add_company(uow, CompanyIn.model_validate(row))
    return company.id


async def _company_ref(uow: UnitOfWork, row: dict[str, str]) -> uuid.UUID | None:
    domain = row.pop("company_domain", None)
    if "company_id" in row:
        return uuid.UUID(row.pop("company_id")) if _is_uuid(row["company_id"]) else _fail("company_id", "not a UUID")
    if domain:
        company = await CompanyRepository(uow.session).find_by_domain(domain)
        if company is None:
            raise _RowFailed("company_domain", f"no company has the domain {domain!r}")
        return company.id
    return None


async def _contact(uow: UnitOfWork, row: dict[str, str], principal: Principal) -> uuid.UUID:
    company_id = await _company_ref(uow, row)
    contact = await add_contact(uow, ContactIn.model_validate({**row, "company_id": company_id}))
    return contact.id


async def _lead(uow: UnitOfWork, row: dict[str, str], principal: Principal) -> uuid.UUID:
    data = LeadIn.model_validate({"source": "import", **row})
    lead = await add_lead(uow, data.model_dump(), created_by=principal.user_id)
    return lead.id


async def _deal(uow: UnitOfWork, row: dict[str, str], principal: Principal) -> uuid.UUID:
    company_id = await _company_ref(uow, row)
    if company_id is None:
        raise _RowFailed("company_id", "name the deal's company by company_id or company_domain")
    contact_email = row.pop("contact_email", None)
    contact_id = None
    if contact_email:
        contact = await ContactRepository(uow.session).find_by_email(contact_email)
        if contact is None:
            raise _RowFailed("contact_email", f"no contact has the email {contact_email!r}")
        contact_id = contact.id
    pipeline_name, stage_name = row.pop("pipeline", None), row.pop("stage", None)
    pipeline_id = stage_id = None
    if pipeline_name:
        pipeline = (await uow.session.execute(select(Pipeline).where(Pipeline.name == pipeline_name))).scalars().first()
        if pipeline is None:
            raise _RowFailed("pipeline", f"no pipeline is named {pipeline_name!r}")
        pipeline_id = pipeline.id
    if stage_name:
        query = select(Stage).where(Stage.name == stage_name, Stage.archived_at.is_(None))
        query = query.where(Stage.pipeline_id == pipeline_id) if pipeline_id else query.join(
            Pipeline, Pipeline.id == Stage.pipeline_id).where(Pipeline.is_default)
        stage = (await uow.session.execute(query)).scalars().first()
        if stage is None:
            raise _RowFailed("stage", f"no stage named {stage_name!r} in that pipeline")
        stage_id = stage.id
    billing: Any = None
    if "billing" in row:
        billing = _json_cell("billing", row.pop("billing"))
    data = DealIn.model_validate({**row, "company_id": company_id, "contact_id": contact_id,
                                  "pipeline_id": pipeline_id, "stage_id": stage_id, "billing": billing})
    deal = await add_deal(uow, data, principal)
    return deal.id


def _json_cell(field: str, text: str) -> Any:
    """A cell holding JSON, parsed within bounds (size and nesting depth), or the row fails."""
    if len(text) > MAX_JSON_CELL_CHARS:
        raise _RowFailed(field, f"{field} is longer than {MAX_JSON_CELL_CHARS} characters")
    if json_depth(text) > MAX_JSON_DEPTH:
        raise _RowFailed(field, f"{field} is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text)
    except ValueError:
        raise _RowFailed(field, f"{field} is not valid JSON") from None


def json_depth(text: str) -> int:
    """How deep the arrays and objects of a JSON text nest (brackets inside strings do not count); counted without
    parsing, so a hostile text costs one pass over its characters."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _fail(field: str, message: str) -> uuid.UUID:
    raise _RowFailed(field, message)


_HANDLERS: dict[str, Callable[[UnitOfWork, dict[str, str], Principal], Awaitable[uuid.UUID]]] = {
    "companies": _company, "contacts": _contact, "leads": _lead, "deals": _deal,
}


# --- export --------------------------------------------------------------------------------------


async def export(uow: UnitOfWork, entity: Entity) -> str:
    out = io.StringIO()
    writer = csv_writer(out)
    session = uow.session
    if entity == "companies":
        writer.writerow(["id", *COLUMNS["companies"], "created_at"])
        for c in (await session.execute(select(Company).where(Company.deleted_at.is_(None))
                                        .order_by(Company.created_at, Company.id))).scalars():
            writer.writerow([c.id, c.name, c.domain, c.email, c.phone, c.address, c.industry, c.size, c.owner_id,
                             _ts(c.created_at)])
    elif entity == "contacts":
        writer.writerow(["id", "first_name", "last_name", "email", "phone", "title", "company_id", "owner_id",
                         "created_at"])
        for p in (await session.execute(select(Contact).where(Contact.deleted_at.is_(None))
                                        .order_by(Contact.created_at, Contact.id))).scalars():
            writer.writerow([p.id, p.first_name, p.last_name, p.email, p.phone, p.title, p.company_id, p.owner_id,
                             _ts(p.created_at)])
    elif entity == "leads":
        writer.writerow(["id", *COLUMNS["leads"], "score", "created_at"])
        for lead in (await session.execute(select(Lead).where(Lead.deleted_at.is_(None))
                                           .order_by(Lead.created_at, Lead.id))).scalars():
            writer.writerow([lead.id, lead.first_name, lead.last_name, lead.email, lead.phone, lead.title,
                             lead.company_name, lead.company_domain, lead.company_size, lead.message, lead.source,
                             lead.owner_id, lead.status, lead.score, _ts(lead.created_at)])
    else:
        writer.writerow(["id", "title", "company_id", "amount", "currency", "pipeline", "stage", "status",
                         "owner_id", "expected_close_date", "billing", "created_at"])
        stages = {s.id: s.name for s in (await session.execute(select(Stage))).scalars()}
        pipelines = {p.id: p.name for p in (await session.execute(select(Pipeline))).scalars()}
        result = await session.stream(select(Deal).order_by(Deal.created_at, Deal.id).execution_options(yield_per=2000))
        async for d in result.scalars():
            writer.writerow([d.id, d.title, d.company_id, _amount(d.amount, d.currency), d.currency,
                             pipelines.get(d.pipeline_id), stages.get(d.stage_id), d.status, d.owner_id,
                             d.expected_close_date, json.dumps(d.billing_terms) if d.billing_terms else "",
                             _ts(d.created_at)])
    return out.getvalue()


def _ts(value: datetime) -> str:
    return value.isoformat()


def _amount(amount: Decimal, currency: str) -> str:
    return str(round_money(amount, currency))
