"""Simulated company settings and virtual backgrounds (`/v2/company...`)."""

import secrets
from typing import Any

from kaleyra.simulator import rules
from kaleyra.simulator.rules import bad_request
from kaleyra.simulator.store import Store, timestamp

COMPANY_FIELDS = (
    "name",
    "default_language",
    "default_background",
    "end_call_redirect_url",
    "user_details_provider_url",
    "end_call_redirect_timeout_ms",
)


class CompanyOperations:
    store: Store
    link_base: str

    def get_company(self) -> dict[str, Any]:
        with self.store.transaction() as connection:
            row = connection.execute("SELECT * FROM company").fetchone()
        return {field: row[field] for field in COMPANY_FIELDS}

    def update_company(self, body: Any) -> dict[str, Any]:
        """Sets the default background, or the user details provider's URL, or both."""
        fields = rules.require_object(body)
        provider_url = fields.get("user_details_provider_url")
        if "user_details_provider_url" in fields and not isinstance(provider_url, str):
            raise bad_request("user_details_provider_url must be a string")
        alias = fields.get("background_alias")
        if ("background_alias" in fields or provider_url is None) and not isinstance(alias, str):
            raise bad_request("background_alias must be a string")
        with self.store.transaction() as connection:
            if alias is not None:
                known = connection.execute("SELECT 1 FROM backgrounds WHERE alias = ?", (alias,))
                if known.fetchone() is None:
                    raise bad_request(f"background {alias} does not exist")
                connection.execute("UPDATE company SET default_background = ?", (alias,))
            if provider_url is not None:
                connection.execute(
                    "UPDATE company SET user_details_provider_url = ?", (provider_url,)
                )
        return self.get_company()

    def upload_background(self, *, filename: str, content: bytes, content_type: str) -> dict:
        # The 1280x1280 minimum [DOC] is not checked: it needs an image decoder.
        with self.store.transaction() as connection:
            existing = connection.execute("SELECT COUNT(*) FROM backgrounds").fetchone()[0]
            rules.background(content, content_type, existing)
            alias = f"bg_{secrets.token_hex(6)}"
            background = {
                "background_alias": alias,
                "url": f"{self.link_base}/backgrounds/{alias}.jpeg",
                "creation_date": timestamp(),
            }
            connection.execute(
                "INSERT INTO backgrounds (alias, url, creation_date) VALUES (?, ?, ?)",
                (alias, background["url"], background["creation_date"]),
            )
        return background
