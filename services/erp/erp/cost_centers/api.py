"""What the other ERP packages use of the cost centers: checking that costs or a project may be booked on one."""

from erp.cost_centers.service import usable_cost_center

__all__ = ["usable_cost_center"]
