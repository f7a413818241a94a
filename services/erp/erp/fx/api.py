"""What the other ERP packages use of the exchange rates: converting an amount into the base currency on a day
(`to_base`, a 422 `MissingRate` without a rate), the rate itself (`rate_on`), many at once (`rates_on`), and the
base currency, required (`required_base`)."""

from erp.fx.service import MissingRate, Rate, known_rates, rate_on, rates_on, required_base, to_base

__all__ = ["MissingRate", "Rate", "known_rates", "rate_on", "rates_on", "required_base", "to_base"]
