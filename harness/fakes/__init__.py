"""Loopback fakes of the outside world (a company site, GitHub, Anthropic) that behave like the
real services: wire format, timing, slips, errors."""
