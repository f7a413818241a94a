from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from erp.company.models import CompanyLogo, CompanyProfile


class CompanyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def profile(self, *, for_update: bool = False) -> CompanyProfile | None:
        query = select(CompanyProfile).where(CompanyProfile.key == 1)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return (await self.session.execute(query)).scalars().first()

    def add(self, profile: CompanyProfile) -> None:
        self.session.add(profile)

    async def logo(self, sha256: str) -> CompanyLogo | None:
        return await self.session.get(CompanyLogo, sha256)

    async def keep_logo(self, sha256: str, media_type: str, data: bytes) -> None:
        """Stored once by its hash (the same image uploaded again is already there)."""
        await self.session.execute(insert(CompanyLogo).values(sha256=sha256, media_type=media_type, data=data)
                                   .on_conflict_do_nothing(index_elements=["sha256"]))
