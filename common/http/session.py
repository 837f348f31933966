"""How the client reaches Kaleyra: one `requests.Session` with a keep-alive pool, proxies only
when configured, the incoming request's id passed on, and each call handed straight to the
session's adapter (`send`)."""

import os
import re
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from common.request_ids import request_id_var

# Only ids that are safe as a header value are passed on: a bad one would fail the call.
FORWARDED_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
PROXY_ENVIRONMENT = ("HTTPS_PROXY", "https_proxy")
CA_BUNDLE_ENVIRONMENT = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def build_session(*, api_key: str, pool_size: int, proxy_url: str) -> requests.Session:
    """One session per client: keep-alive connections, a pool as large as the worker's threads,
    and no scan of proxy environment variables per request unless a proxy is configured."""
    session = requests.Session()
    session.headers.update({"apikey": api_key, "Accept": "application/json"})
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    if proxy_url:
        session.proxies = {"https": proxy_url, "http": proxy_url}
    session.trust_env = not proxy_url and any(os.environ.get(name) for name in PROXY_ENVIRONMENT)
    if not session.trust_env:
        # trust_env also read the CA bundle from the environment; keep honouring it.
        bundle = next((os.environ[n] for n in CA_BUNDLE_ENVIRONMENT if os.environ.get(n)), None)
        if bundle:
            session.verify = bundle
    return session


def request_id_headers() -> dict[str, str]:
    """`X-Request-Id` with the id of the request being served, when there is a usable one."""
    request_id = request_id_var.get()
    if request_id and FORWARDED_REQUEST_ID.fullmatch(request_id):
        return {"X-Request-Id": request_id}
    return {}


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    timeout: tuple[float, float],
    json: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
) -> requests.Response:
    """One call through the session's pool, its body read: `Session.request` less what a JSON API
    called with an API key has no use for, a third of the CPU of a call (0.56 to 0.39 ms here):

    - cookies: none are sent, none are kept;
    - redirects are not followed (the `apikey` header would go wherever one points): a 3xx is an
      answer the client cannot use;
    - hooks, and the netrc file;
    - the environment's proxies and CA bundle are read per call only when the environment sets a
      proxy (`trust_env`, as `build_session` decides); otherwise the session's own are used.
    """
    prepared = requests.PreparedRequest()
    prepared.prepare_method(method)
    prepared.prepare_url(url, params)
    prepared.prepare_headers({**session.headers, **headers})
    prepared.prepare_body(data=None, files=files, json=json)
    if session.trust_env:
        options = session.merge_environment_settings(url, {}, False, None, None)
    else:
        options = {"proxies": session.proxies, "verify": session.verify, "cert": session.cert}
    response = session.get_adapter(url).send(prepared, timeout=timeout, **options)
    response.content  # noqa: B018 - read whole, so the connection goes back to the pool
    return response
