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
        alias = rules.require_object(body).get("background_alias")
        if not isinstance(alias, str):
            raise bad_request("background_alias must be a string")
        with self.store.transaction() as connection:
            known = connection.execute("SELECT 1 FROM backgrounds WHERE alias = ?", (alias,))
            if known.fetchone() is None:
                raise bad_request(f"background {alias} does not exist")
            connection.execute("UPDATE company SET default_background = ?", (alias,))
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
