"""The lead score: plain rules a salesperson can read, each with its points and reason in the response."""

from typing import Any

SOURCE_POINTS = {"referral": 30, "partner": 25, "website": 20, "event": 15, "campaign": 10, "api": 10,
                 "cold_outreach": 5, "import": 5, "other": 5}
FREE_MAIL = frozenset({"gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com",
                       "icloud.com", "aol.com", "gmx.de", "gmx.net", "web.de", "proton.me", "protonmail.com",
                       "mail.com", "yandex.ru"})
POINTS_PER_ACTIVITY, MAX_ACTIVITY_POINTS = 5, 20


def score(*, source: str, company_size: int | None, email: str | None, phone: str | None, message: str | None,
          activities: int) -> tuple[int, list[dict[str, Any]]]:
    reasons: list[dict[str, Any]] = []

    def add(factor: str, points: int, reason: str) -> None:
        reasons.append({"factor": factor, "points": points, "reason": reason})

    add("source", SOURCE_POINTS.get(source, 5), f"source is {source}")
    if company_size is None:
        add("company_size", 0, "company size unknown")
    elif company_size >= 250:
        add("company_size", 25, f"{company_size} employees (250 or more)")
    elif company_size >= 50:
        add("company_size", 20, f"{company_size} employees (50 to 249)")
    elif company_size >= 10:
        add("company_size", 10, f"{company_size} employees (10 to 49)")
    else:
        add("company_size", 5, f"{company_size} employees (fewer than 10)")
    if email:
        domain = email.rsplit("@", 1)[-1].lower()
        if domain in FREE_MAIL:
            add("email", 0, f"free mail address ({domain})")
        else:
            add("email", 10, f"business email address ({domain})")
    if phone:
        add("phone", 5, "phone number given")
    if message and len(message.strip()) >= 20:
        add("message", 5, "wrote a message of 20 characters or more")
    engagement = min(activities * POINTS_PER_ACTIVITY, MAX_ACTIVITY_POINTS)
    add("engagement", engagement, f"{activities} logged activities ({POINTS_PER_ACTIVITY} points each, "
                                  f"at most {MAX_ACTIVITY_POINTS})")
    return min(100, sum(r["points"] for r in reasons)), reasons
