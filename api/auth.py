"""Bearer-token auth for the JSON API: on when PREP_API_TOKEN is set, a constant-time compare."""

from __future__ import annotations

import hmac
from collections.abc import Mapping


def is_authorized(headers: Mapping[str, str], token: str | None) -> bool:
    """True when no token is configured, or the request carries `Authorization: Bearer <token>`."""
    if token is None:
        return True
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip().encode(), token.encode())
