"""The bell: what needs the caller, merged from the services' notifications, with the caller's read marks."""
