"""The error hierarchy every layer speaks; transports map it to HTTP statuses and close codes.

DomainError
├── ValidationFailed   400/422  bad input, with a field → reason map
├── Unauthenticated    401      no, bad or expired credentials
├── Forbidden          403      the role does not allow the action
├── NotFound           404      missing, or not visible to this user (never leaks existence)
├── Conflict           409      stale version, duplicate key, last owner
├── Gone               410      it existed but is over (an invite link that expired, was revoked or used up)
└── RateLimited        429
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "error"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(DomainError):
    status = 422
    code = "validation_error"


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Gone(DomainError):
    """It was there and is over for good; `code` says how (e.g. `invite_expired`)."""

    status = 410
    code = "gone"

    def __init__(self, message: str, *, code: str = "gone", fields: dict[str, str] | None = None) -> None:
        super().__init__(message, fields=fields)
        self.code = code


class RateLimited(DomainError):
    """Too many attempts; `retry_after` is how many seconds until one would be allowed again."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: float, fields: dict[str, str] | None = None) -> None:
        super().__init__(message, fields=fields)
        self.retry_after = retry_after
