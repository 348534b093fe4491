"""HTTP Tasks: ``arn:aws:states:::http:invoke`` (DG "Call HTTPS APIs in Step Functions
workflows").

The task's parameters: ``ApiEndpoint`` (the URL) and ``Method`` (required), the EventBridge
connection as ``Authentication.ConnectionArn`` (or ``InvocationConfig.ConnectionArn``),
``Headers``, ``QueryParameters``, ``RequestBody``, and ``Transform`` (``RequestBodyEncoding``
``NONE`` or ``URL_ENCODED``, with ``RequestEncodingOptions.ArrayFormat`` INDICES, REPEAT,
COMMAS or BRACKETS). The result is ``{"Headers", "ResponseBody", "StatusCode",
"StatusText"}``; a status outside 2xx fails the task with ``States.Http.StatusCode.<code>``,
a connection that cannot be made or answer in time with ``States.Http.Socket``.

Connections, locally: AWS keeps the credentials in the EventBridge connection; here they
come from a connections file given by the user (``--connections FILE``), a JSON object
mapping each connection ARN to EventBridge's ``CreateConnection`` request members
``AuthorizationType`` (``BASIC``, ``API_KEY``, ``OAUTH_CLIENT_CREDENTIALS``) and
``AuthParameters`` (``BasicAuthParameters``, ``ApiKeyAuthParameters``, ``OAuthParameters``,
``InvocationHttpParameters``). The connection's values are added to the request and win
over the task's own for the same header, query parameter or body key. An ARN missing from
the file fails the task, naming the ARN; without a connections file HTTP Tasks are not
routed at all (a definition's URL is never called unless the user configured it).

Each exchange can be observed (:class:`HttpExchange`): TestState's ``TRACE`` level shows
it as ``inspectionData.request`` / ``response``, with the connection's secrets masked
unless ``revealSecrets``.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.client import HTTPException
from pathlib import Path
from typing import Any

import anyio.to_thread

from runtime.adapters.base import AdapterRegistry, TaskCall
from runtime.engine.errors import TaskFailure

__all__ = [
    "ARN_PATTERN",
    "Connection",
    "HttpExchange",
    "HttpInvoke",
    "HttpRequest",
    "build_request",
    "load_connections",
    "register",
]

ARN_PATTERN = r"^arn:[^:]+:states:::http:invoke$"
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD")
#: AWS: an HTTP Task times out after 60 seconds (States.Http.Socket).
TIMEOUT_SECONDS = 60.0
#: Step Functions asks for at most 256 KiB of response (the Range header it adds).
RANGE = "bytes=0-262144"
ARRAY_FORMATS = ("INDICES", "REPEAT", "COMMAS", "BRACKETS")
#: Headers a task may not set (the transport owns them).
FORBIDDEN_HEADERS = frozenset(
    h.lower()
    for h in (
        "A-IM", "Accept-Charset", "Accept-Datetime", "Accept-Encoding", "Cache-Control",
        "Connection", "Content-Encoding", "Content-Length", "Content-MD5", "Date", "Expect",
        "Forwarded", "From", "Host", "HTTP2-Settings", "If-Match", "If-Modified-Since",
        "If-None-Match", "If-Range", "If-Unmodified-Since", "Max-Forwards", "Origin",
        "Pragma", "Proxy-Authorization", "Referer", "Server", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "User-Agent", "Via", "Warning",
    )
)  # fmt: skip
FORBIDDEN_PREFIXES = ("x-forwarded", "x-amz", "x-amzn")
MASK = "***"


def _runtime(message: str) -> TaskFailure:
    return TaskFailure("States.Runtime", message)


@dataclass(frozen=True, slots=True)
class Connection:
    """An EventBridge connection's authorization, as ``CreateConnection`` takes it."""

    arn: str
    authorization_type: str
    parameters: Mapping[str, Any]

    @classmethod
    def parse(cls, arn: str, value: Any, where: str) -> Connection:
        if not isinstance(value, Mapping):
            raise ValueError(f"{where}: connection {arn} is not a JSON object")
        kind = value.get("AuthorizationType")
        if kind not in ("BASIC", "API_KEY", "OAUTH_CLIENT_CREDENTIALS"):
            raise ValueError(
                f"{where}: connection {arn}: AuthorizationType must be BASIC, API_KEY or "
                f"OAUTH_CLIENT_CREDENTIALS, not {kind!r}"
            )
        params = value.get("AuthParameters") or {}
        if not isinstance(params, Mapping):
            raise ValueError(f"{where}: connection {arn}: AuthParameters is not a JSON object")
        needed = {
            "BASIC": ("BasicAuthParameters", ("Username", "Password")),
            "API_KEY": ("ApiKeyAuthParameters", ("ApiKeyName", "ApiKeyValue")),
            "OAUTH_CLIENT_CREDENTIALS": (
                "OAuthParameters",
                ("AuthorizationEndpoint", "HttpMethod", "ClientParameters"),
            ),
        }[kind]
        member = params.get(needed[0])
        missing = [k for k in needed[1] if not isinstance(member, Mapping) or k not in member]
        if missing:
            raise ValueError(
                f"{where}: connection {arn}: AuthParameters.{needed[0]} lacks " + ", ".join(missing)
            )
        return cls(arn, kind, params)


def load_connections(path: str | Path) -> dict[str, Connection]:
    """The connections file: ``{"<ConnectionArn>": {"AuthorizationType", "AuthParameters"}}``.
    ValueError naming the file and the connection on a mistake."""
    where = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{where}: {exc.strerror}") from None
    except ValueError as exc:
        raise ValueError(f"{where}: not JSON ({exc})") from None
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: a JSON object of connection ARN -> connection is expected")
    return {arn: Connection.parse(arn, value, where) for arn, value in data.items()}


@dataclass(slots=True)
class HttpRequest:
    """The request an HTTP Task sends; ``secrets`` are the header, query and body values
    that came from the connection (masked in a trace unless revealed)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    secrets: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class HttpExchange:
    """One request and its response (or None when no response came)."""

    request: HttpRequest
    status: int | None = None
    reason: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def inspection(self, reveal_secrets: bool) -> dict[str, Any]:
        """TestState's ``inspectionData`` members ``request`` and ``response``."""
        request = self.request
        protocol = urllib.parse.urlsplit(request.url).scheme
        secrets = set() if reveal_secrets else request.secrets

        def masked(text: str) -> str:
            for secret in sorted(secrets, key=len, reverse=True):
                if secret:
                    text = text.replace(secret, MASK)
            return text

        shown = ", ".join(f"{k}: {masked(v)}" for k, v in request.headers.items())
        out: dict[str, Any] = {
            "request": {
                "protocol": protocol,
                "method": request.method,
                "url": masked(request.url),
                "headers": f"[{shown}]",
                "body": masked((request.body or b"").decode("utf-8", "replace")),
            }
        }
        if self.status is not None:
            out["response"] = {
                "protocol": protocol,
                "statusCode": str(self.status),
                "statusMessage": self.reason,
                "headers": "[" + ", ".join(f"{k}: {v}" for k, v in self.headers) + "]",
                "body": self.body.decode("utf-8", "replace"),
            }
        return out


def _string_map(value: Any, name: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _runtime(f"The {name} of an HTTP Task must be a JSON object.")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}


def _form(body: Mapping[str, Any], array_format: str) -> str:
    """``body`` as application/x-www-form-urlencoded, arrays written as ``array_format``."""
    pairs: list[tuple[str, str]] = []

    def text(value: Any) -> str:
        return value if isinstance(value, str) else json.dumps(value)

    for key, value in body.items():
        if isinstance(value, list):
            if array_format == "COMMAS":
                pairs.append((key, ",".join(text(v) for v in value)))
            for index, item in enumerate(value):
                if array_format == "INDICES":
                    pairs.append((f"{key}[{index}]", text(item)))
                elif array_format == "BRACKETS":
                    pairs.append((f"{key}[]", text(item)))
                elif array_format == "REPEAT":
                    pairs.append((key, text(item)))
        else:
            pairs.append((key, text(value)))
    return urllib.parse.urlencode(pairs)


def _transform(parameters: Mapping[str, Any]) -> tuple[str, str]:
    transform = parameters.get("Transform")
    if transform is None:
        return "NONE", "INDICES"
    if not isinstance(transform, Mapping):
        raise _runtime("The Transform of an HTTP Task must be a JSON object.")
    encoding = transform.get("RequestBodyEncoding", "NONE")
    if encoding not in ("NONE", "URL_ENCODED"):
        raise _runtime(
            f"Transform.RequestBodyEncoding must be NONE or URL_ENCODED, not {encoding!r}."
        )
    options = transform.get("RequestEncodingOptions") or {}
    array_format = options.get("ArrayFormat", "INDICES") if isinstance(options, Mapping) else None
    if array_format not in ARRAY_FORMATS:
        raise _runtime(
            "Transform.RequestEncodingOptions.ArrayFormat must be one of "
            f"{', '.join(ARRAY_FORMATS)}, not {array_format!r}."
        )
    return encoding, array_format


def _connection_arn(parameters: Mapping[str, Any]) -> str | None:
    for key in ("Authentication", "InvocationConfig"):
        holder = parameters.get(key)
        if isinstance(holder, Mapping) and isinstance(holder.get("ConnectionArn"), str):
            return str(holder["ConnectionArn"])
    return None


def _pairs(http: Mapping[str, Any], key: str) -> list[tuple[str, str, bool]]:
    found = http.get(key) or []
    return [
        (str(p.get("Key")), str(p.get("Value", "")), bool(p.get("IsValueSecret", True)))
        for p in found
        if isinstance(p, Mapping)
    ]


def build_request(
    parameters: Any,
    connection: Connection | None,
    region: str,
    token: str | None = None,
) -> HttpRequest:
    """The request for a task's effective input (``token``: an OAuth access token)."""
    if not isinstance(parameters, Mapping):
        raise _runtime("The parameters of an HTTP Task must be a JSON object.")
    endpoint = parameters.get("ApiEndpoint")
    if not isinstance(endpoint, str) or not endpoint:
        raise _runtime("An HTTP Task needs ApiEndpoint, a URL string.")
    if urllib.parse.urlsplit(endpoint).scheme not in ("http", "https"):
        raise _runtime(f"ApiEndpoint {endpoint!r} is not an http(s) URL.")
    method = parameters.get("Method")
    if method not in METHODS:
        raise _runtime(f"Method must be one of {', '.join(METHODS)}, not {method!r}.")
    headers = _string_map(parameters.get("Headers"), "Headers")
    for name in headers:
        lowered = name.lower()
        if lowered in FORBIDDEN_HEADERS or lowered.startswith(FORBIDDEN_PREFIXES):
            raise _runtime(f"The header {name!r} cannot be set by an HTTP Task.")
    query = _string_map(parameters.get("QueryParameters"), "QueryParameters")
    encoding, array_format = _transform(parameters)
    body = parameters.get("RequestBody")
    secrets: set[str] = set()
    auth: dict[str, str] = {}
    if connection is not None:
        params = connection.parameters
        if connection.authorization_type == "BASIC":
            basic = params["BasicAuthParameters"]
            raw = f"{basic['Username']}:{basic['Password']}".encode()
            value = "Basic " + base64.b64encode(raw).decode("ascii")
            auth["Authorization"] = value
            secrets.add(value)
        elif connection.authorization_type == "API_KEY":
            key = params["ApiKeyAuthParameters"]
            auth[str(key["ApiKeyName"])] = str(key["ApiKeyValue"])
            secrets.add(str(key["ApiKeyValue"]))
        elif token is not None:
            auth["Authorization"] = f"Bearer {token}"
            secrets.add(auth["Authorization"])
        http = params.get("InvocationHttpParameters") or {}
        for key, value, secret in _pairs(http, "HeaderParameters"):
            auth[key] = value
            if secret:
                secrets.add(value)
        for key, value, secret in _pairs(http, "QueryStringParameters"):
            query[key] = value
            if secret:  # as it is, and as it appears in the URL
                secrets.update((value, urllib.parse.quote_plus(value)))
        extra = _pairs(http, "BodyParameters")
        if extra:
            if body is not None and not isinstance(body, Mapping):
                raise _runtime(
                    "The connection adds body parameters, but the RequestBody is not a JSON object."
                )
            body = {**(body or {}), **{key: value for key, value, _ in extra}}
            secrets.update(value for _, value, secret in extra if secret)
    merged = {k: v for k, v in headers.items() if k.lower() not in {a.lower() for a in auth}}
    merged.update(auth)
    data: bytes | None = None
    names = {k.lower() for k in merged}
    if body is not None:
        if encoding == "URL_ENCODED":
            if not isinstance(body, Mapping):
                raise _runtime("RequestBodyEncoding URL_ENCODED needs a JSON object RequestBody.")
            data = _form(body, array_format).encode()
            if "content-type" not in names:
                merged["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
            if "content-type" not in names:
                merged["Content-Type"] = "application/json; charset=UTF-8"
    merged["Range"] = RANGE
    merged["User-Agent"] = f"Amazon|StepFunctions|HttpInvoke|{region}"
    url = endpoint
    if query:
        url += ("&" if urllib.parse.urlsplit(endpoint).query else "?") + urllib.parse.urlencode(
            query
        )
    return HttpRequest(str(method), url, merged, data, secrets)


def _send(request: HttpRequest, timeout: float) -> HttpExchange:
    """Send ``request`` (blocking); an answer of any status is an exchange."""
    prepared = urllib.request.Request(
        request.url, data=request.body, headers=request.headers, method=request.method
    )
    opener = urllib.request.build_opener(_NoProxy())
    try:
        response = opener.open(prepared, timeout=timeout)
    except urllib.error.HTTPError as answer:
        with answer:
            body = answer.read()
            return HttpExchange(
                request, answer.code, str(answer.reason), tuple(answer.headers.items()), body
            )
    except (urllib.error.URLError, OSError, HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        message = f"{request.method} {request.url}: {reason}"
        raise TaskFailure("States.Http.Socket", message) from None
    with response:
        return HttpExchange(
            request,
            response.status,
            str(response.reason),
            tuple(response.headers.items()),
            response.read(),
        )


class _NoProxy(urllib.request.ProxyHandler):
    """Requests go where the task says, not through an environment proxy."""

    def __init__(self) -> None:
        super().__init__({})


def task_result(exchange: HttpExchange) -> dict[str, Any]:
    """The task's result: ``{"Headers", "ResponseBody", "StatusCode", "StatusText"}``."""
    headers: dict[str, list[str]] = {}
    for name, value in exchange.headers:
        headers.setdefault(name, []).append(value)
    text = exchange.body.decode("utf-8", "replace")
    content_type = next((v for k, v in exchange.headers if k.lower() == "content-type"), "")
    body: Any = text
    if "json" in content_type.lower() and text:
        try:
            body = json.loads(text)
        except ValueError:
            body = text
    return {
        "Headers": headers,
        "ResponseBody": body,
        "StatusCode": exchange.status,
        "StatusText": exchange.reason,
    }


@dataclass
class HttpInvoke:
    """Runs ``http:invoke`` tasks with the stdlib's urllib, in a worker thread."""

    connections: Mapping[str, Connection]
    region: str = "us-east-1"
    timeout: float = TIMEOUT_SECONDS
    #: Hears each exchange (TestState's TRACE), or None.
    observer: Callable[[HttpExchange], None] | None = None

    async def invoke(self, call: TaskCall) -> Any:
        parameters = call.parameters
        arn = _connection_arn(parameters) if isinstance(parameters, Mapping) else None
        if arn is None:
            raise _runtime("An HTTP Task needs Authentication.ConnectionArn.")
        connection = self.connections.get(arn)
        if connection is None:
            raise _runtime(f"The connection {arn} is not in the connections file (--connections).")
        token = None
        if connection.authorization_type == "OAUTH_CLIENT_CREDENTIALS":
            token = await anyio.to_thread.run_sync(self._oauth_token, connection)
        request = build_request(parameters, connection, self.region, token)
        exchange = await anyio.to_thread.run_sync(_send, request, self.timeout)
        if self.observer is not None:
            self.observer(exchange)
        result = task_result(exchange)
        status = exchange.status or 0
        if not 200 <= status < 300:
            raise TaskFailure(f"States.Http.StatusCode.{status}", json.dumps(result))
        return result

    def _oauth_token(self, connection: Connection) -> str:
        """OAuth client credentials: ask the connection's authorization endpoint."""
        oauth = connection.parameters["OAuthParameters"]
        client = oauth["ClientParameters"]
        http = oauth.get("OAuthHttpParameters") or {}
        form = {"grant_type": "client_credentials"}
        form.update({k: v for k, v, _ in _pairs(http, "BodyParameters")})
        raw = f"{client.get('ClientID', '')}:{client.get('ClientSecret', '')}".encode()
        headers = {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}
        headers.update({k: v for k, v, _ in _pairs(http, "HeaderParameters")})
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        url = str(oauth["AuthorizationEndpoint"])
        query = {k: v for k, v, _ in _pairs(http, "QueryStringParameters")}
        if query:
            url += "?" + urllib.parse.urlencode(query)
        method = str(oauth["HttpMethod"])
        request = HttpRequest(method, url, headers, urllib.parse.urlencode(form).encode())
        exchange = _send(request, self.timeout)
        status = exchange.status or 0
        try:
            token = json.loads(exchange.body).get("access_token") if 200 <= status < 300 else None
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str):
            raise TaskFailure(
                "Events.ConnectionResource.InvalidConnectionState",
                f"The OAuth endpoint of {connection.arn} answered {status} without an "
                "access_token.",
            )
        return token


def register(registry: AdapterRegistry, adapter: HttpInvoke) -> HttpInvoke:
    """Route ``http:invoke`` tasks to ``adapter``."""
    registry.register(ARN_PATTERN, adapter)
    return adapter
