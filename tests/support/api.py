"""A thin client for the REST API in tests: JSON in, (status, JSON) out, with users made on demand."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx
from quart.testing import QuartClient

_counter = itertools.count(1)
PASSWORD = "correct-horse-battery"


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any

    def error_fields(self) -> dict[str, str]:
        return dict(self.body["error"]["fields"])


@dataclass
class User:
    id: int
    email: str
    name: str
    token: str
    refresh_token: str


class Api:
    """Talks to the app in-process through Quart's test client."""

    def __init__(self, client: QuartClient | None) -> None:
        self.client = client  # type: ignore[assignment]

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        token: str | None = None,
        query: dict[str, Any] | None = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        return await self._request(method, path, json=json, data=data, query=query, headers=all_headers)

    async def _request(
        self, method: str, path: str, *, json: Any, data: bytes | None, query: Any, headers: dict[str, str]
    ) -> Reply:
        kwargs: dict[str, Any] = {"headers": headers}
        if json is not None:
            kwargs["json"] = json
        if data is not None:
            kwargs["data"] = data
        if query:
            kwargs["query_string"] = query
        response = await self.client.open(path, method=method, **kwargs)
        raw = await response.get_data()
        body = await response.get_json() if raw and response.mimetype == "application/json" else raw
        return Reply(response.status_code, body, response.headers)

    async def get(self, path: str, **kw: Any) -> Reply:
        return await self.call("GET", path, **kw)

    async def post(self, path: str, **kw: Any) -> Reply:
        return await self.call("POST", path, **kw)

    async def patch(self, path: str, **kw: Any) -> Reply:
        return await self.call("PATCH", path, **kw)

    async def put(self, path: str, **kw: Any) -> Reply:
        return await self.call("PUT", path, **kw)

    async def delete(self, path: str, **kw: Any) -> Reply:
        return await self.call("DELETE", path, **kw)

    async def user(self, name: str | None = None) -> User:
        """Register and log in a new user."""
        n = next(_counter)
        name = name or f"User {n}"
        email = f"{name.lower().replace(' ', '.')}.{n}@example.com"
        reply = await self.post(
            "/api/auth/register", json={"email": email, "password": PASSWORD, "name": name}
        )
        assert reply.status == 201, reply.body
        login = await self.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert login.status == 200, login.body
        return User(reply.body["id"], email, name, login.body["access_token"], login.body["refresh_token"])

    async def project(self, owner: User, key: str = "OPS", **members: str) -> dict[str, Any]:
        reply = await self.post(
            "/api/projects", json={"key": key, "name": f"Project {key}"}, token=owner.token
        )
        assert reply.status == 201, reply.body
        return dict(reply.body)

    async def add(self, owner: User, project_id: int, user: User, role: str) -> None:
        reply = await self.post(
            f"/api/projects/{project_id}/members", json={"email": user.email, "role": role}, token=owner.token
        )
        assert reply.status == 201, reply.body

    async def ticket(self, user: User, project_id: int, **fields: Any) -> dict[str, Any]:
        fields.setdefault("title", "A ticket")
        reply = await self.post(f"/api/projects/{project_id}/tickets", json=fields, token=user.token)
        assert reply.status == 201, reply.body
        return dict(reply.body)


class HttpApi(Api):
    """The same helpers over real HTTP (for a hub served by Hypercorn or in another process)."""

    def __init__(self, base_url: str) -> None:
        super().__init__(None)
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)

    async def _request(
        self, method: str, path: str, *, json: Any, data: bytes | None, query: Any, headers: dict[str, str]
    ) -> Reply:
        response = await self.http.request(
            method, path, json=json, content=data, params=query, headers=headers
        )
        is_json = response.headers.get("content-type", "").startswith("application/json")
        body = response.json() if response.content and is_json else response.content
        return Reply(response.status_code, body, response.headers)

    async def aclose(self) -> None:
        await self.http.aclose()
