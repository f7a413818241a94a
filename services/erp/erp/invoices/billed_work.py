"""What an invoice gives back when it is voided, credited in full or its draft deleted: the work it billed.

Invoicing is the ERP's lower layer: billing runs put schedule items and time entries on invoices, the expenses
package puts billable expenses on them, and none of that is the invoices package's to know. So the invoices
package defines this interface, and each package that bills work onto invoices registers how to release its work;
the composition root (`erp.app.create_app`, which every ERP process runs, api and worker alike) does the
registering. A void, a credit note that credits the invoice in full (status `credited`) or a draft deletion calls
every registered releaser inside its own transaction, so the invoice and the work it gives back change together or
not at all. Each releaser gives back exactly what names this invoice (time entries by their `invoice_id`, set with
the `invoice_line_id` that billed them), and nothing on another invoice.

Chosen over the alternatives: an in-process event would hide the same dependency behind a name; passing the
releasers through every call would make the invoices router know the packages above it.
"""

from typing import Protocol

from erp.invoices.models import Invoice
from throughline_messaging.uow import UnitOfWork


class ReleaseBilledWork(Protocol):
    """Puts what `invoice` billed back to unbilled, in the caller's transaction (flush, never commit)."""

    async def __call__(self, uow: UnitOfWork, invoice: Invoice) -> None: ...


class BilledWorkReleasers:
    def __init__(self) -> None:
        self._releasers: list[ReleaseBilledWork] = []

    def register(self, release: ReleaseBilledWork) -> None:
        """Once per releaser: registering the same one again (a second app in one process) changes nothing."""
        if release not in self._releasers:
            self._releasers.append(release)

    async def release(self, uow: UnitOfWork, invoice: Invoice) -> None:
        if not self._releasers:
            # A process that voids without the composition root's wiring would leave billed work stranded.
            raise RuntimeError("No billed-work releasers are registered: erp.app.create_app registers them.")
        for release in self._releasers:
            await release(uow, invoice)
        await uow.session.flush()


BILLED_WORK = BilledWorkReleasers()
