"""The HTTP side for services: the OAuth 2.0 client-credentials grant (POST /oauth/token,
docs/protocol.md section 6) and publishing (POST /v1/events, docs/openapi.yaml)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from globemeet.errors import GlobeMeetError

_TIMEOUT = httpx.Timeout(10.0)


def _base(server: str) -> str:
    if not server.startswith(("http://", "https://")):
        raise GlobeMeetError("bad_config", f"server {server!r} is not an http:// or https:// URL")
    return server.rstrip("/")


def _error(response: httpx.Response, what: str) -> GlobeMeetError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = str(body.get("error") or f"http_{response.status_code}")
    detail = body.get("error_description") or body.get("message") or response.reason_phrase
    return GlobeMeetError(code, f"{what}: HTTP {response.status_code} {code}: {detail}", status=response.status_code)


async def fetch_token(server: str, client_id: str, client_secret: str, scope: str | None = None, *,
                      client: httpx.AsyncClient | None = None) -> str:
    """A token (JWT) from the server's OAuth client-credentials grant, with HTTP Basic client
    authentication. `scope`: space-separated topic patterns narrowing the token's `perms`.
    Raises GlobeMeetError with the RFC 6749 error code (`invalid_client`, `invalid_scope`, ...)."""
    form = {"grant_type": "client_credentials"}
    if scope is not None:
        form["scope"] = scope
    url = _base(server) + "/oauth/token"
    auth = httpx.BasicAuth(client_id, client_secret)
    try:
        if client is None:
            async with httpx.AsyncClient(timeout=_TIMEOUT) as own:
                response = await own.post(url, data=form, auth=auth)
        else:
            response = await client.post(url, data=form, auth=auth)
    except httpx.HTTPError as e:
        raise GlobeMeetError("token_unavailable", f"fetch_token: {url}: {e}") from e
    if response.status_code != 200:
        raise _error(response, "fetch_token")
    token = response.json().get("access_token")
    if not isinstance(token, str) or not token:
        raise GlobeMeetError("token_unavailable", "fetch_token: the answer carries no access_token")
    return token


def token_provider(server: str, client_id: str, client_secret: str, scope: str | None = None) -> Any:
    """A `get_token` for GlobeMeetWS that runs fetch_token for every request."""
    async def get_token(reason: str) -> str:
        return await fetch_token(server, client_id, client_secret, scope)
    return get_token


MAX_EVENTS_PER_REQUEST = 1000  # the server's limit per POST /v1/events


async def publish(server: str, token: str, events: Mapping[str, Any] | Sequence[Mapping[str, Any]], *,
                  idempotency_key: str | None = None, client: httpx.AsyncClient | None = None) -> list[str]:
    """Publishes one event (`{"type", "subject", "data"}`) or a list, in requests of up to
    1,000 events, in order (the token must carry `pub: true`). Returns the ids the server
    assigned, in order. With `idempotency_key`, each request carries `Idempotency-Key` (the
    key, or `key.0`, `key.1`, ... when the list needs several requests): the same call retried
    after a lost answer stores each event once. Raises GlobeMeetError (`invalid_event`,
    `forbidden`, ...) when the server refuses a request; earlier requests stay stored."""
    if isinstance(events, Mapping):
        bodies: list[Any] = [dict(events)]
    else:
        items = list(events)
        bodies = [{"events": items[i:i + MAX_EVENTS_PER_REQUEST]}
                  for i in range(0, len(items), MAX_EVENTS_PER_REQUEST)]
    url = _base(server) + "/v1/events"
    ids: list[str] = []
    own = client is None
    http = client if client is not None else httpx.AsyncClient(timeout=_TIMEOUT)
    try:
        for n, body in enumerate(bodies):
            headers = {"Authorization": f"Bearer {token}"}
            if idempotency_key is not None:
                headers["Idempotency-Key"] = idempotency_key if len(bodies) == 1 else f"{idempotency_key}.{n}"
            try:
                response = await http.post(url, json=body, headers=headers)
            except httpx.HTTPError as e:
                raise GlobeMeetError("publish_failed", f"publish: {url}: {e}") from e
            if response.status_code != 200:
                raise _error(response, "publish")
            answer = response.json().get("ids")
            if not isinstance(answer, list):
                raise GlobeMeetError("publish_failed", "publish: the answer carries no ids")
            ids += [str(i) for i in answer]
    finally:
        if own:
            await http.aclose()
    return ids
