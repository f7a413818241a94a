"""What needs the caller in the CRM now: leads assigned to them, their tasks due (the gateway's bell merges it)."""
