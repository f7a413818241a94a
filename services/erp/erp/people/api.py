"""What the other ERP packages use of the people: the one check that a time entry, an expense or a booking names a
person who exists and is active, the person (reports group by department and cost center), and people's names (an
invoice line says whose time it bills by name)."""

from erp.people.models import Person
from erp.people.service import names_of, require_active_person

__all__ = ["Person", "names_of", "require_active_person"]
