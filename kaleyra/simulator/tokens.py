"""SDK access tokens: HS256 JWTs shaped like the sample in Kaleyra's docs, minted with the stdlib.

They are look-alikes for clients that decode the claims; nothing verifies them against Kaleyra.
"""

import base64
import hashlib
import hmac
import json
from typing import Any

ISSUER = "@switchboard-core"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint(*, user_id: str, company_id: str, issued_at: int, expires_in: int, secret: str) -> str:
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {
        "user": user_id,
        "companyId": company_id,
        "allowCamera": True,
        "iat": issued_at,
        "exp": issued_at + expires_in,
        "iss": ISSUER,
        "sub": f"{user_id}#{company_id}",
    }
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    signature = hmac.new(secret.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def decode(token: str, secret: str) -> dict[str, Any]:
    """The claims of a token minted here; ValueError when the signature does not match."""
    signing_input, _, signature = token.rpartition(".")
    expected = hmac.new(secret.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, _b64url_decode(signature)):
        raise ValueError("bad token signature")
    return json.loads(_b64url_decode(signing_input.split(".")[1]))
