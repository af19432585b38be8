"""REST transport: parse, authenticate, call a service, render. No rules live here."""
