"""Which of our fields a column of another tool's CSV export holds: the proposal the import screen starts from.

A header is compared by its letters and digits only, lower-cased ("Phone Number", "phone_number" and
"PHONE-NUMBER" are one name), after dropping what Pipedrive puts around its names ("Person - Email - Work" is
"Email"). The synonyms cover HubSpot's export columns ("First Name", "Company Domain Name", "Job Title",
"Number of Employees", "Deal Name", "Close Date") and Pipedrive's ("Name", "Organization", "Email - Work",
"Phone - Work", "Value", "Expected close date"), and our own export's names. A column nothing matches (HubSpot's
"Record ID", "Lifecycle Stage", "Create Date") is proposed as not imported; each field is proposed for one column
at most (the first that names it). Owner columns are never proposed: other tools write a person's name there, and
our owners are user ids (docs/crm.md, "Import").
"""

import re

# Our fields per entity, as the import takes them. `full_name` is split into first and last name at the first
# space; `company_name` links the record to the company of that name (contacts: creating it when there is none).
FIELDS: dict[str, tuple[str, ...]] = {
    "companies": ("name", "domain", "email", "phone", "address", "industry", "size", "owner_id"),
    "contacts": ("first_name", "last_name", "full_name", "email", "phone", "title", "company_id", "company_name",
                 "company_domain", "owner_id"),
    "leads": ("first_name", "last_name", "full_name", "email", "phone", "title", "company_name", "company_domain",
              "company_size", "message", "source", "owner_id", "status"),
    "deals": ("title", "company_id", "company_name", "company_domain", "contact_email", "amount", "currency",
              "pipeline", "stage", "owner_id", "expected_close_date", "billing"),
}

_PERSON = {
    "first_name": ("firstname", "givenname", "forename", "first"),
    "last_name": ("lastname", "surname", "familyname", "last"),
    "full_name": ("name", "fullname", "contactname", "personname"),
    "email": ("email", "emailaddress", "email1", "primaryemail", "workemail", "mail"),
    "phone": ("phone", "phonenumber", "mobilephonenumber", "mobilephone", "mobile", "telephone", "tel", "workphone"),
    "title": ("jobtitle", "title", "position"),
    "company_name": ("companyname", "company", "organization", "organisation", "organizationname", "accountname",
                     "associatedcompany"),
    "company_domain": ("companydomainname", "companydomain", "companywebsite", "website"),
}
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "companies": {
        "name": ("companyname", "name", "organizationname", "organization", "organisation", "company",
                 "accountname"),
        "domain": ("companydomainname", "domain", "companydomain", "website", "websiteurl", "url"),
        "email": ("email", "companyemail", "emailaddress"),
        "phone": ("phone", "phonenumber", "telephone", "companyphone"),
        "address": ("address", "streetaddress", "fulladdress", "street"),
        "industry": ("industry",),
        "size": ("numberofemployees", "employees", "size", "companysize", "employeecount"),
    },
    "contacts": {**_PERSON},
    "leads": {**_PERSON, "company_size": ("numberofemployees", "companysize", "employees"),
              "message": ("message", "notes", "note", "description"),
              "source": ("source", "leadsource", "originalsource")},
    "deals": {
        "title": ("dealname", "title", "name", "deal"),
        "amount": ("amount", "value", "dealvalue", "dealamount"),
        "currency": ("currency", "dealcurrency", "currencycode", "valuecurrency"),
        "pipeline": ("pipeline",),
        "stage": ("dealstage", "stage"),
        "expected_close_date": ("closedate", "expectedclosedate", "expectedclose"),
        "company_domain": ("companydomainname", "companydomain", "domain"),
        "company_name": ("companyname", "organization", "organisation", "company", "associatedcompany"),
        "contact_email": ("contactemail", "personemail", "email"),
        "billing": ("billing", "billingterms"),
    },
}
_PREFIX = re.compile(r"^(person|organization|organisation|deal|lead|contact)\s+-\s+", re.IGNORECASE)
_SUFFIX = re.compile(r"\s+-\s+(work|home|other|mobile|main)$", re.IGNORECASE)


def normalise(header: str) -> str:
    """A header as compared: Pipedrive's "Person - " and " - Work" dropped, then letters and digits lower-cased."""
    name = _SUFFIX.sub("", _PREFIX.sub("", header.strip()))
    return "".join(ch for ch in name.lower() if ch.isalnum())


def propose(entity: str, header: list[str]) -> dict[str, str | None]:
    """Each column of `header` -> the field proposed for it, or None (not imported)."""
    fields = FIELDS[entity]
    by_name: dict[str, str] = {}
    for field, names in SYNONYMS[entity].items():
        for name in names:
            by_name.setdefault(name, field)
    for field in fields:  # our own names (the export's header) always match
        by_name[normalise(field)] = field
    taken: set[str] = set()
    proposal: dict[str, str | None] = {}
    for column in header:
        match = by_name.get(normalise(column))
        if match is None or match in taken:
            proposal[column] = None
            continue
        taken.add(match)
        proposal[column] = match
    return proposal
