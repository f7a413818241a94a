"""The company profile: our seller details, edited by admin and finance, copied onto each invoice at issue."""

import hashlib
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from erp.company.models import CompanyProfile
from erp.company.repository import CompanyRepository
from erp.company.rules import vat_prefix_country
from erp.company.schemas import CompanyIn
from erp.taxes.api import seed_country
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import NotFound, Unprocessable

LOGO_MAX_BYTES = 512 * 1024
_LOGO_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


async def get_profile(uow: UnitOfWork) -> CompanyProfile:
    profile = await CompanyRepository(uow.session).profile()
    if profile is None:
        raise NotFound("The company profile is not set up yet: PUT /api/erp/settings/company.",
                       type_slug="company-profile-missing")
    return profile


async def put_profile(uow: UnitOfWork, body: CompanyIn) -> CompanyProfile:
    """Replace the profile (create it the first time). The first time a country is named, its standard tax rate is
    added (erp.taxes.seed_country); a later change of country changes no rate."""
    if body.vat_id and vat_prefix_country(body.vat_id) != body.country:
        message = (f"{body.vat_id} is a VAT ID of {vat_prefix_country(body.vat_id)}, not of {body.country} "
                   "(the company's country)")
        raise Unprocessable(f"vat_id: {message}.", errors=[{"field": "vat_id", "message": message,
                                                            "type": "vat_id_country"}])
    companies = CompanyRepository(uow.session)
    profile = await companies.profile(for_update=True)
    first_country = profile is None
    if profile is None:
        profile = CompanyProfile(key=1)
        companies.add(profile)
    values = body.model_dump(mode="json")
    for field, value in values.items():
        setattr(profile, field, value)
    if first_country:
        await seed_country(uow, body.country)
    await uow.commit()
    return profile


async def set_logo(uow: UnitOfWork, data: bytes) -> CompanyProfile:
    if not data:
        raise Unprocessable("The logo file is empty.", errors=[{"field": "file", "message": "empty", "type": "logo"}])
    if len(data) > LOGO_MAX_BYTES:
        raise Unprocessable(f"The logo is larger than {LOGO_MAX_BYTES // 1024} KB.",
                            errors=[{"field": "file", "message": "too large", "type": "logo"}])
    media_type = next((t for sig, t in _LOGO_SIGNATURES.items() if data.startswith(sig)), None)
    if media_type is None:
        raise Unprocessable("The logo must be a PNG or JPEG image.",
                            errors=[{"field": "file", "message": "not a PNG or JPEG image", "type": "logo"}])
    companies = CompanyRepository(uow.session)
    profile = await companies.profile(for_update=True)
    if profile is None:
        raise NotFound("Set up the company profile before its logo.", type_slug="company-profile-missing")
    sha256 = hashlib.sha256(data).hexdigest()
    await companies.keep_logo(sha256, media_type, data)
    profile.logo_sha256 = sha256
    await uow.commit()
    return profile


async def remove_logo(uow: UnitOfWork) -> CompanyProfile:
    profile = await CompanyRepository(uow.session).profile(for_update=True)
    if profile is None:
        raise NotFound("The company profile is not set up yet.", type_slug="company-profile-missing")
    profile.logo_sha256 = None  # the image stays: issued invoices may name it
    await uow.commit()
    return profile


async def logo(uow: UnitOfWork, sha256: str | None = None) -> tuple[bytes, str]:
    """A logo by its hash (an invoice's snapshot names one), or the current one."""
    companies = CompanyRepository(uow.session)
    if sha256 is None:
        sha256 = (await get_profile(uow)).logo_sha256
    found = await companies.logo(sha256) if sha256 else None
    if found is None:
        raise NotFound("There is no logo.")
    return found.data, found.media_type


def snapshot(profile: CompanyProfile) -> dict[str, Any]:
    """The seller as an invoice keeps it (invoices.seller): what its documents print, ever after."""
    return {
        "legal_name": profile.legal_name, "address_lines": list(profile.address_lines or []),
        "postal_code": profile.postal_code, "city": profile.city, "country": profile.country,
        "vat_id": profile.vat_id, "registration_number": profile.registration_number, "email": profile.email,
        "phone": profile.phone, "website": profile.website,
        "bank_accounts": [dict(account) for account in profile.bank_accounts or []],
        "logo_sha256": profile.logo_sha256, "invoice_footer": profile.invoice_footer,
        "invoice_language": profile.invoice_language,
    }


async def current_seller(uow: UnitOfWork) -> dict[str, Any] | None:
    """The seller snapshot of the profile as it is now (None before it is set up)."""
    profile = await CompanyRepository(uow.session).profile()
    return snapshot(profile) if profile is not None else None


async def defaults(uow: UnitOfWork) -> tuple[str | None, str | None]:
    """(country, base currency) of the company, or (None, None) before the profile is set up."""
    profile = await CompanyRepository(uow.session).profile()
    return (profile.country, profile.base_currency) if profile is not None else (None, None)


async def base_currency(session: AsyncSession) -> str | None:
    """The company's base currency (what exchange rates convert into), or None before the profile is set up. Takes
    a session, not a unit of work, so that the ledger and the exchange rates can ask from inside their own work."""
    profile = await CompanyRepository(session).profile()
    return profile.base_currency if profile is not None else None
