"""The service configuration JSON (TELECONSULTATION_SERVICE_CONFIG_PATH): loaded once, validated.

Mia-Platform's format: `privileges.{basic,plus}.{groups,tools}`, `environment`, `mode`, `theme`,
`companyLogo`, `groupsWithBackgroundList`, `userIdPathInRequest`, `customUserId` (Mia 1.8.0). A
known key with a wrong shape raises `ServiceConfigError` naming the file, the key path and the
problem, which stops start-up; an unknown key is a logged warning (Mia adds keys between versions).
"""

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from kaleyra.types import TOOL_KEYS, Privilege, Privileges

logger = logging.getLogger("teleconsultation.config")

BUILT_IN = "<built-in default>"
PATH_STEP_KINDS = ("object", "json", "array")
KNOWN_KEYS = (
    "privileges",
    "environment",
    "mode",
    "theme",
    "companyLogo",
    "groupsWithBackgroundList",
    "userIdPathInRequest",
    "customUserId",
)
THEME_VARIANTS = ("light", "dark")
THEME_COLORS = ("primaryColor", "accentColor")


class ServiceConfigError(ImproperlyConfigured):
    def __init__(self, source: str, key_path: str, problem: str) -> None:
        self.source, self.key_path, self.problem = source, key_path, problem
        super().__init__(f"Service configuration {source}: {key_path}: {problem}")


@dataclass(frozen=True)
class PathStep:
    source: str  # "object" | "json" | "array"
    extract: str


@dataclass(frozen=True)
class CustomUserId:
    """Mia 1.8.0: the field holding the id clients send (`source`) and the identity provider's
    id (`target`) in the users at CUSTOM_ID_USERS_API_ENDPOINT."""

    source: str = "_id"
    target: str = "authUserId"


@dataclass(frozen=True)
class ServiceConfig:
    privileges: Privileges
    environment: str = "sandbox"
    mode: str | None = None
    theme: Mapping[str, Mapping[str, str]] | None = None
    company_logo_url: str | None = None
    groups_with_background: frozenset[str] = frozenset()
    user_id_path: tuple[PathStep, ...] = field(default=())
    custom_user_id: CustomUserId = CustomUserId()

    def wants_background(self, groups: Iterable[str]) -> bool:
        return bool(set(groups) & self.groups_with_background)


ALL_TOOLS_ON = {key: True for key in TOOL_KEYS}
DEFAULT_DOCUMENT = {
    "environment": "sandbox",
    "privileges": {
        "basic": {"groups": ["customer"], "tools": ALL_TOOLS_ON},
        "plus": {"groups": ["doctor"], "tools": ALL_TOOLS_ON},
    },
}


class _Reader:
    """Walks the JSON document, raising errors that name the key path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key_path: str, problem: str) -> None:
        raise ServiceConfigError(self.source, key_path, problem)

    def warn_unknown(self, document: dict, known: Iterable[str], prefix: str = "") -> None:
        unknown = sorted(set(document) - set(known))
        if unknown:
            logger.warning(
                "Service configuration %s: ignoring unknown key(s) %s",
                self.source,
                ", ".join(prefix + key for key in unknown),
            )

    def text(self, value: Any, key_path: str) -> str:
        self.expect(value, str, key_path, "a non-empty string")
        if not value.strip():
            self.fail(key_path, "must be a non-empty string")
        return value

    def expect(self, value: Any, kind: type | tuple, key_path: str, what: str) -> Any:
        # bool is an int in Python; a JSON `true` where a number is wanted is still a mistake.
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            self.fail(key_path, f"must be {what}, got {json.dumps(value)[:60]}")
        return value

    def string_list(self, value: Any, key_path: str) -> frozenset[str]:
        self.expect(value, list, key_path, "a list of group names")
        for index, item in enumerate(value):
            self.expect(item, str, f"{key_path}[{index}]", "a non-empty string")
            if not item.strip():
                self.fail(f"{key_path}[{index}]", "must be a non-empty string")
        return frozenset(value)

    def tools(self, value: Any, key_path: str) -> dict[str, bool]:
        if value is None:
            return dict(ALL_TOOLS_ON)
        self.expect(value, dict, key_path, "an object of tool flags")
        for key, flag in value.items():
            if key not in TOOL_KEYS:
                self.fail(f"{key_path}.{key}", f"unknown tool; known tools: {', '.join(TOOL_KEYS)}")
            self.expect(flag, bool, f"{key_path}.{key}", "true or false")
        # Kaleyra disables a tool that is not listed, so a missing key means off.
        return {key: bool(value.get(key, False)) for key in TOOL_KEYS}

    def privilege(self, document: dict, name: str) -> Privilege:
        key_path = f"privileges.{name}"
        if name not in document:
            self.fail(key_path, "is required")
        entry = self.expect(document[name], dict, key_path, "an object with groups and tools")
        self.warn_unknown(entry, ("groups", "tools"), f"{key_path}.")
        if "groups" not in entry:
            self.fail(f"{key_path}.groups", "is required")
        groups = self.string_list(entry["groups"], f"{key_path}.groups")
        if not groups:
            self.fail(f"{key_path}.groups", "must name at least one group")
        return Privilege(groups=groups, tools=self.tools(entry.get("tools"), f"{key_path}.tools"))

    def user_id_path(self, value: Any) -> tuple[PathStep, ...]:
        if value is None:
            return ()
        self.expect(value, list, "userIdPathInRequest", "a list of {from, extract} steps")
        steps = []
        for index, step in enumerate(value):
            key_path = f"userIdPathInRequest[{index}]"
            self.expect(step, dict, key_path, "an object {from, extract}")
            kind = step.get("from")
            if kind not in PATH_STEP_KINDS:
                self.fail(f"{key_path}.from", f"must be one of {', '.join(PATH_STEP_KINDS)}")
            if index == 0 and kind != "object":
                self.fail(f"{key_path}.from", "the first step must be 'object' (the request)")
            extract = step.get("extract")
            if isinstance(extract, bool) or not isinstance(extract, str | int) or extract == "":
                self.fail(f"{key_path}.extract", "must be a non-empty key or an index")
            steps.append(PathStep(source=kind, extract=str(extract)))
        return tuple(steps)

    def theme(self, value: Any) -> dict[str, dict[str, str]] | None:
        """`{light|dark: {primaryColor, accentColor}}`; the colours go to the clients as given."""
        if value is None:
            return None
        self.expect(value, dict, "theme", "an object with light and/or dark")
        self.warn_unknown(value, THEME_VARIANTS, "theme.")
        theme = {}
        for variant in THEME_VARIANTS:
            if variant not in value:
                continue
            colors = self.expect(value[variant], dict, f"theme.{variant}", "an object of colours")
            self.warn_unknown(colors, THEME_COLORS, f"theme.{variant}.")
            theme[variant] = {
                name: self.text(colors[name], f"theme.{variant}.{name}")
                for name in THEME_COLORS
                if name in colors
            }
        return theme

    def company_logo(self, value: Any) -> str | None:
        """`{url}` as Mia documents it; a bare URL string still reads."""
        if value is None or isinstance(value, str):
            return value
        self.expect(value, dict, "companyLogo", "an object {url}")
        self.warn_unknown(value, ("url",), "companyLogo.")
        if "url" not in value:
            self.fail("companyLogo.url", "is required")
        return self.text(value["url"], "companyLogo.url")

    def custom_user_id(self, value: Any) -> CustomUserId:
        if value is None:
            return CustomUserId()
        self.expect(value, dict, "customUserId", "an object {source, target}")
        self.warn_unknown(value, ("source", "target"), "customUserId.")
        default = CustomUserId()
        return CustomUserId(
            source=self.text(value.get("source", default.source), "customUserId.source"),
            target=self.text(value.get("target", default.target), "customUserId.target"),
        )

    def read(self, document: Any) -> ServiceConfig:
        self.expect(document, dict, "(root)", "a JSON object")
        self.warn_unknown(document, KNOWN_KEYS)
        privileges = document.get("privileges")
        if privileges is None:
            self.fail("privileges", "is required")
        self.expect(privileges, dict, "privileges", "an object with basic and plus")
        self.warn_unknown(privileges, ("basic", "plus"), "privileges.")
        basic = self.privilege(privileges, "basic")
        plus = self.privilege(privileges, "plus")
        both = sorted(basic.groups & plus.groups)
        if both:
            self.fail("privileges", f"group(s) {', '.join(both)} are in both basic and plus")
        environment = document.get("environment", "sandbox")
        if environment not in ("sandbox", "production"):
            self.fail("environment", "must be 'sandbox' or 'production'")
        mode = document.get("mode")
        if mode is not None:
            self.expect(mode, str, "mode", "a string")
        background = document.get("groupsWithBackgroundList", [])
        return ServiceConfig(
            privileges=Privileges(basic=basic, plus=plus),
            environment=environment,
            mode=mode,
            theme=self.theme(document.get("theme")),
            company_logo_url=self.company_logo(document.get("companyLogo")),
            groups_with_background=self.string_list(background, "groupsWithBackgroundList"),
            user_id_path=self.user_id_path(document.get("userIdPathInRequest")),
            custom_user_id=self.custom_user_id(document.get("customUserId")),
        )


def load_service_config(path: str | Path | None) -> ServiceConfig:
    """Read and validate the file at `path`, or Mia's default configuration when None."""
    if not path:
        return _Reader(BUILT_IN).read(DEFAULT_DOCUMENT)
    source = str(path)
    reader = _Reader(source)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        reader.fail("(file)", f"cannot be read: {exc.strerror or exc}")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        reader.fail("(file)", f"is not valid JSON: {exc.msg} at line {exc.lineno}")
    return reader.read(document)


@cache
def get_service_config() -> ServiceConfig:
    return load_service_config(settings.TELECONSULTATION_SERVICE_CONFIG_PATH or None)


def _reset_on_setting_change(*, setting: str, **kwargs: Any) -> None:
    if setting == "TELECONSULTATION_SERVICE_CONFIG_PATH":
        get_service_config.cache_clear()


def connect_signals() -> None:
    from django.core.signals import setting_changed

    setting_changed.connect(_reset_on_setting_change, dispatch_uid="service_config_reset")
