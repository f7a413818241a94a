"""CSV import and export of companies, contacts, leads and deals.

Import: the file must be UTF-8 CSV with a header line; a file that cannot be parsed is refused whole (422).
Without a mapping the header must name our columns (the export's). With one (`{"Their column": "our_field"}`,
proposed by `propose_mapping` from the header names, HubSpot's and Pipedrive's included: csvio/mapping.py) any
export imports as it is: the mapped columns are read, the others ignored. Each row is validated by the same schema
and rules as the API and written in its own savepoint, so a row is imported completely or not at all. A company
whose domain, or a contact whose email, is already known is updated with the row's non-empty cells instead of
refused (`on_match="update"`, the default), so importing the same export twice changes nothing the second time.
The report names every row: created, updated or refused (with the reason). With `all_or_nothing`, one refused row
refuses the whole file. `preview` runs exactly the same import and rolls it back, so the problems it reports are
the ones a commit would meet.

Export: every cell is written through `throughline_platform.csv_safety`, so none runs as a formula in the
spreadsheet that opens the file; the import undoes that (`restore`), so an exported file imports as it was. The
export names a record's company beside its id (`company_name`); owners are user ids, whose names the gateway fills
in on the way out (gateway/exports.py)."""

import csv
import io
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError
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
    change_company,
    change_contact,
)
from crm.csvio.mapping import FIELDS, propose
from crm.deals.api import Deal, DealIn, add_deal
from crm.leads.api import Lead, LeadIn, add_lead
from crm.pipelines.api import Pipeline, Stage
from throughline_events.money import round_money
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.csv_safety import csv_writer, restore
from throughline_platform.problems import ProblemError, Unprocessable

Entity = Literal["companies", "contacts", "leads", "deals"]
OnMatch = Literal["update", "refuse"]
Action = Literal["created", "updated", "refused"]
MAX_ROWS = 10_000
PREVIEW_ROWS = 20
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
# A required field another mapped field can stand for (a full name gives the first name).
_STANDS_FOR = {"first_name": "full_name"}
# Written by the export, ignored by the import (so an exported file can be imported elsewhere).
EXPORT_ONLY: dict[str, tuple[str, ...]] = {
    "companies": ("id", "created_at", "owner", "owner_email"),
    "contacts": ("id", "created_at", "company_name", "owner", "owner_email"),
    "leads": ("id", "score", "created_at", "owner", "owner_email"),
    "deals": ("id", "status", "created_at", "company_name", "owner", "owner_email"),
}
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


class RowError(BaseModel):
    row: int
    field: str | None
    message: str


class RowOutcome(BaseModel):
    row: int = Field(description="The line of the file (the header is line 1)")
    action: Action
    id: uuid.UUID | None = Field(None, description="The record created or updated")
    field: str | None = None
    message: str | None = Field(None, description="Why the row was refused, or what else the row did")


class ImportResult(BaseModel):
    entity: str
    rows: int
    imported: int = Field(description="created + updated")
    failed: int = Field(description="Rows refused")
    created: int = 0
    updated: int = 0
    refused: int = 0
    ids: list[uuid.UUID]
    errors: list[RowError]
    report: list[RowOutcome] = Field(default_factory=list, description="Every row: created, updated or refused")


class PreviewRow(BaseModel):
    row: int
    action: Action
    values: dict[str, str] = Field(description="The row as it would be imported: our field -> the cell")
    problems: list[RowError]


class ImportPreview(BaseModel):
    entity: str
    rows: int
    created: int
    updated: int
    refused: int
    items: list[PreviewRow] = Field(description=f"The first {PREVIEW_ROWS} rows (or `limit`)")
    problems: list[RowError] = Field(description="Every refused row's problem, all rows of the file")


class ColumnProposal(BaseModel):
    source: str = Field(description="The column's name in the file")
    target: str | None = Field(description="The field proposed for it; null: not imported")
    samples: list[str] = Field(description="Its first few non-empty cells")


class MappingProposal(BaseModel):
    entity: str
    rows: int
    fields: list[str] = Field(description="The fields the entity takes")
    required: list[str]
    columns: list[ColumnProposal]


class _RowFailed(Exception):
    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


Rows = list[tuple[int, dict[str, str]]]


def read_table(raw: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The file's header and its non-blank rows (line number, cells); refuses a file that is not well-formed CSV."""
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unprocessable(f"The file is not UTF-8 text (byte {exc.start}).", type_slug="malformed-csv") from None
    if not content.strip():
        raise Unprocessable("The file is empty; the first line names the columns.", type_slug="malformed-csv")
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    try:
        header = [h.strip() for h in next(reader)]
        for values in reader:
            if not any(v.strip() for v in values):
                continue  # blank line
            if len(rows) >= MAX_ROWS:
                raise Unprocessable(f"At most {MAX_ROWS} rows per import.", type_slug="too-many-rows")
            rows.append((reader.line_num, values))
    except csv.Error as exc:
        raise Unprocessable(f"Malformed CSV at line {reader.line_num}: {exc}.", type_slug="malformed-csv") from None
    if len(set(header)) != len(header):
        raise Unprocessable("A column is named twice in the header.", type_slug="malformed-csv")
    return header, rows


def parse(entity: Entity, raw: bytes, mapping: dict[str, str | None] | None = None) -> Rows:
    """The file's rows as (line number, {our field: cell}). Without `mapping` the header must name our columns."""
    header, table = read_table(raw)
    if mapping is None:
        header = [h.lower() for h in header]
        known = set(COLUMNS[entity]) | set(EXPORT_ONLY[entity])
        unknown = [h for h in header if h not in known]
        if unknown:
            raise Unprocessable(f"Unknown columns {unknown}; {entity} take {list(COLUMNS[entity])}.",
                                type_slug="malformed-csv")
        if len(set(header)) != len(header):
            raise Unprocessable("A column is named twice in the header.", type_slug="malformed-csv")
        targets = {h: (None if h in EXPORT_ONLY[entity] else h) for h in header}
    else:
        targets = _checked_mapping(entity, header, mapping)
    mapped = {t for t in targets.values() if t}
    missing = [c for c in REQUIRED[entity] if c not in mapped and _STANDS_FOR.get(c) not in mapped]
    if missing:
        raise Unprocessable(f"Missing required columns {missing}.", type_slug="malformed-csv")
    rows: Rows = []
    for line, values in table:
        if len(values) != len(header):
            rows.append((line, {"__error__": f"expected {len(header)} values, found {len(values)}"}))
            continue
        rows.append((line, {target: restore(v).strip() for h, v in zip(header, values, strict=True)
                            if (target := targets[h])}))
    return rows


def _checked_mapping(entity: Entity, header: list[str], mapping: dict[str, str | None]) -> dict[str, str | None]:
    fields = FIELDS[entity]
    unknown_columns = [c for c in mapping if c not in header]
    if unknown_columns:
        raise Unprocessable(f"The mapping names columns the file does not have: {unknown_columns[:10]}.",
                            type_slug="bad-mapping")
    chosen = [t for t in mapping.values() if t]
    bad = [t for t in chosen if t not in fields]
    if bad:
        raise Unprocessable(f"Unknown fields {bad[:10]}; {entity} take {list(fields)}.", type_slug="bad-mapping")
    twice = sorted({t for t in chosen if chosen.count(t) > 1})
    if twice:
        raise Unprocessable(f"Each field may come from one column only: {twice}.", type_slug="bad-mapping")
    return {h: (mapping.get(h) or None) for h in header}


def mapping_from_json(text: str | None) -> dict[str, str | None] | None:
    """The `mapping` query parameter: a JSON object {column: field or null}."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        raise Unprocessable("mapping: not valid JSON.", type_slug="bad-mapping") from None
    if not isinstance(value, dict) or not all(isinstance(k, str) and (v is None or isinstance(v, str))
                                              for k, v in value.items()):
        raise Unprocessable('mapping: a JSON object {"column": "field" or null}.', type_slug="bad-mapping")
    return value


def propose_mapping(entity: Entity, raw: bytes) -> MappingProposal:
    header, table = read_table(raw)
    if not table:
        raise Unprocessable("The file names its columns but has no rows to import.", type_slug="malformed-csv")
    proposal = propose(entity, header)
    columns = []
    for index, column in enumerate(header):
        samples = [restore(values[index]).strip() for _, values in table
                   if index < len(values) and values[index].strip()][:3]
        columns.append(ColumnProposal(source=column, target=proposal[column], samples=samples))
    return MappingProposal(entity=entity, rows=len(table), fields=list(FIELDS[entity]),
                           required=list(REQUIRED[entity]), columns=columns)


async def _run(uow: UnitOfWork, entity: Entity, rows: Rows, principal: Principal,
               on_match: OnMatch) -> list[RowOutcome]:
    handler = _HANDLERS[entity]
    outcomes: list[RowOutcome] = []
    for line, row in rows:
        try:
            if "__error__" in row:
                raise _RowFailed(None, row["__error__"])
            async with uow.session.begin_nested():
                done = await handler(uow, {k: v for k, v in row.items() if v != ""}, principal, on_match)
            outcomes.append(RowOutcome(row=line, action=done.action, id=done.id, message=done.note))
        except _RowFailed as exc:
            outcomes.append(RowOutcome(row=line, action="refused", field=exc.field, message=exc.message))
        except ValidationError as exc:
            first = exc.errors()[0]
            outcomes.append(RowOutcome(row=line, action="refused",
                                       field=".".join(str(p) for p in first["loc"]) or None, message=first["msg"]))
        except ProblemError as exc:
            outcomes.append(RowOutcome(row=line, action="refused", message=exc.detail))
    return outcomes


def _errors(outcomes: list[RowOutcome]) -> list[RowError]:
    return [RowError(row=o.row, field=o.field, message=o.message or "") for o in outcomes if o.action == "refused"]


async def import_rows(uow: UnitOfWork, entity: Entity, rows: Rows, principal: Principal, *,
                      all_or_nothing: bool, on_match: OnMatch = "update") -> ImportResult:
    outcomes = await _run(uow, entity, rows, principal, on_match)
    errors = _errors(outcomes)
    if errors and all_or_nothing:
        raise Unprocessable(f"{len(errors)} of {len(rows)} rows are invalid; nothing was imported.",
                            type_slug="import-rejected", errors=[e.model_dump() for e in errors[:100]])
    await uow.commit()
    done = [o for o in outcomes if o.id is not None]
    created = sum(o.action == "created" for o in outcomes)
    updated = sum(o.action == "updated" for o in outcomes)
    return ImportResult(entity=entity, rows=len(rows), imported=len(done), failed=len(errors), created=created,
                        updated=updated, refused=len(errors), ids=[o.id for o in done if o.id], errors=errors,
                        report=outcomes)


async def preview(uow: UnitOfWork, entity: Entity, rows: Rows, principal: Principal, *, on_match: OnMatch,
                  limit: int = PREVIEW_ROWS) -> ImportPreview:
    """The import as it would go, rolled back: nothing is written, no event leaves."""
    try:
        outcomes = await _run(uow, entity, rows, principal, on_match)
    finally:
        uow.discard_events()
        await uow.session.rollback()
    by_line = {o.row: o for o in outcomes}
    errors = _errors(outcomes)
    items = [PreviewRow(row=line, action=by_line[line].action,
                        values={k: v for k, v in row.items() if k != "__error__"},
                        problems=[e for e in errors if e.row == line]) for line, row in rows[:limit]]
    return ImportPreview(entity=entity, rows=len(rows), created=sum(o.action == "created" for o in outcomes),
                         updated=sum(o.action == "updated" for o in outcomes), refused=len(errors), items=items,
                         problems=errors)


class _Done:
    def __init__(self, action: Action, record_id: uuid.UUID, note: str | None = None) -> None:
        self.action = action
        self.id = record_id
        self.note = note


def domain_of(value: str) -> str:
    """A domain from what tools write in a domain or website column: `https://www.Acme.com/about` -> `acme.com`."""
    text = _SCHEME.sub("", value.strip()).split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    text = text.rsplit("@", 1)[-1].split(":", 1)[0].lower().rstrip(".")
    return text[4:] if text.startswith("www.") else text


def _split_name(row: dict[str, str]) -> None:
    full = row.pop("full_name", None)
    if full and "first_name" not in row:
        first, _, last = full.strip().partition(" ")
        row["first_name"] = first
        if last.strip() and "last_name" not in row:
            row["last_name"] = last.strip()


async def _company(uow: UnitOfWork, row: dict[str, str], principal: Principal, on_match: OnMatch) -> _Done:
    if "domain" in row:
        row["domain"] = domain_of(row["domain"])
    data = CompanyIn.model_validate(row)
    if data.domain and on_match == "update":
        existing = await CompanyRepository(uow.session).find_by_domain(data.domain)
        if existing is not None:
            changes = data.model_dump(exclude_unset=True, exclude={"domain"})
            company = await change_company(uow, existing.id, changes)
            return _Done("updated", company.id)
    company = await add_company(uow, data)
    return _Done("created", company.id)


async def _company_ref(uow: UnitOfWork, row: dict[str, str], *, create: bool = False) -> tuple[uuid.UUID | None,
                                                                                                 str | None]:
    """The company a row names (by id, domain or name), and a note when it was created for the row."""
    domain = row.pop("company_domain", None)
    name = row.pop("company_name", None)
    if "company_id" in row:
        return (uuid.UUID(row.pop("company_id")) if _is_uuid(row["company_id"])
                else _fail("company_id", "not a UUID")), None
    companies = CompanyRepository(uow.session)
    if domain:
        company = await companies.find_by_domain(domain_of(domain))
        if company is None:
            raise _RowFailed("company_domain", f"no company has the domain {domain!r}")
        return company.id, None
    if name:
        company = await companies.find_by_name(name)
        if company is not None:
            return company.id, None
        if not create:
            raise _RowFailed("company_name", f"no company is named {name!r}")
        try:
            company = await add_company(uow, CompanyIn(name=name))
        except ValidationError:
            raise _RowFailed("company_name", "a company name is 1 to 200 characters") from None
        return company.id, f"company {company.name!r} created"
    return None, None


async def _contact(uow: UnitOfWork, row: dict[str, str], principal: Principal, on_match: OnMatch) -> _Done:
    _split_name(row)
    company_id, note = await _company_ref(uow, row, create=True)
    fields = {**row, "company_id": company_id} if company_id else row
    data = ContactIn.model_validate(fields)
    if data.email and on_match == "update":
        existing = await ContactRepository(uow.session).find_by_email(data.email)
        if existing is not None:
            changes = data.model_dump(exclude_unset=True, exclude={"email"})
            contact = await change_contact(uow, existing.id, changes)
            return _Done("updated", contact.id, note)
    contact = await add_contact(uow, data)
    return _Done("created", contact.id, note)


async def _lead(uow: UnitOfWork, row: dict[str, str], principal: Principal, on_match: OnMatch) -> _Done:
    _split_name(row)
    if "company_domain" in row:
        row["company_domain"] = domain_of(row["company_domain"])
    data = LeadIn.model_validate({"source": "import", **row})
    lead = await add_lead(uow, data.model_dump(), created_by=principal.user_id)
    return _Done("created", lead.id)


async def _deal(uow: UnitOfWork, row: dict[str, str], principal: Principal, on_match: OnMatch) -> _Done:
    company_id, _ = await _company_ref(uow, row)
    if company_id is None:
        raise _RowFailed("company_id", "name the deal's company by company_id, company_domain or company_name")
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
    return _Done("created", deal.id)


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


_HANDLERS: dict[str, Callable[[UnitOfWork, dict[str, str], Principal, OnMatch], Awaitable[_Done]]] = {
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
        writer.writerow(["id", "first_name", "last_name", "email", "phone", "title", "company_id", "company_name",
                         "owner_id", "created_at"])
        names = await _company_names(uow)
        for p in (await session.execute(select(Contact).where(Contact.deleted_at.is_(None))
                                        .order_by(Contact.created_at, Contact.id))).scalars():
            writer.writerow([p.id, p.first_name, p.last_name, p.email, p.phone, p.title, p.company_id,
                             names.get(p.company_id) if p.company_id else None, p.owner_id, _ts(p.created_at)])
    elif entity == "leads":
        writer.writerow(["id", *COLUMNS["leads"], "score", "created_at"])
        for lead in (await session.execute(select(Lead).where(Lead.deleted_at.is_(None))
                                           .order_by(Lead.created_at, Lead.id))).scalars():
            writer.writerow([lead.id, lead.first_name, lead.last_name, lead.email, lead.phone, lead.title,
                             lead.company_name, lead.company_domain, lead.company_size, lead.message, lead.source,
                             lead.owner_id, lead.status, lead.score, _ts(lead.created_at)])
    else:
        writer.writerow(["id", "title", "company_id", "company_name", "amount", "currency", "pipeline", "stage",
                         "status", "owner_id", "expected_close_date", "billing", "created_at"])
        names = await _company_names(uow)
        stages = {s.id: s.name for s in (await session.execute(select(Stage))).scalars()}
        pipelines = {p.id: p.name for p in (await session.execute(select(Pipeline))).scalars()}
        result = await session.stream(select(Deal).order_by(Deal.created_at, Deal.id).execution_options(yield_per=2000))
        async for d in result.scalars():
            writer.writerow([d.id, d.title, d.company_id, names.get(d.company_id), _amount(d.amount, d.currency),
                             d.currency,
                             pipelines.get(d.pipeline_id), stages.get(d.stage_id), d.status, d.owner_id,
                             d.expected_close_date, json.dumps(d.billing_terms) if d.billing_terms else "",
                             _ts(d.created_at)])
    return out.getvalue()


async def _company_names(uow: UnitOfWork) -> dict[uuid.UUID, str]:
    rows = await uow.session.execute(select(Company.id, Company.name))
    return {company_id: name for company_id, name in rows.tuples()}


def _ts(value: datetime) -> str:
    return value.isoformat()


def _amount(amount: Decimal, currency: str) -> str:
    return str(round_money(amount, currency))
