"""What the other ERP packages use of the people: the one check that a time entry, an expense or a booking names a
person who exists and is active, and the person (reports group by department and cost center)."""

from erp.people.models import Person
from erp.people.service import require_active_person

__all__ = ["Person", "require_active_person"]
