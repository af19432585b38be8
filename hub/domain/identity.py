"""Who is acting: a plain value, safe to pass between transactions, sockets and chat adapters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class _UserLike(Protocol):
    id: int
    name: str
    email: str
    is_admin: bool


@dataclass(frozen=True, slots=True)
class Actor:
    id: int
    name: str
    email: str
    is_admin: bool = False

    @classmethod
    def of(cls, user: _UserLike) -> Actor:
        return cls(id=user.id, name=user.name, email=user.email, is_admin=user.is_admin)
