"""SMART scopes (docs/fhir.md#scopes): what a token lets its client do, as pairs of a resource
type and a permission letter (c create, r read, u update, d delete, s search).

Backend services ask for `system/` scopes, in SMART v2 syntax (`system/Observation.rs`) or v1
(`system/Observation.read`, `.write`, `.*`). A scope is expanded to the permissions this server
has at all (SERVED); it is refused when it asks for one the client was not registered for, when
it grants nothing here, or when it is of a kind a backend service cannot have. Pure code.
"""

import re
from dataclasses import dataclass

# What the interface does with each resource type.
SERVED: dict[str, str] = {"Patient": "rs", "Observation": "rs", "QuestionnaireResponse": "crs"}
V2_PERMISSIONS = "cruds"
V1_PERMISSIONS = {"read": "rs", "write": "cud", "*": "cruds"}
SCOPE = re.compile(r"^system/(?P<type>\*|[A-Z][A-Za-z]+)\.(?P<permissions>[a-z*]+)$")


class ScopeError(ValueError):
    """A requested scope that cannot be granted; the message names it."""


@dataclass(frozen=True)
class Grant:
    permissions: frozenset[tuple[str, str]]

    def allows(self, resource_type: str, permission: str) -> bool:
        return (resource_type, permission) in self.permissions

    def readable(self, resource_types) -> list[str]:
        return [t for t in resource_types if self.allows(t, "r")]

    def __le__(self, other: "Grant") -> bool:
        return self.permissions <= other.permissions


def registered_grant(scope: str) -> Grant:
    """What a client registered as `read` or `write` may do: its static token does exactly
    this, and its access tokens at most this."""
    permissions = {(t, p) for t, served in SERVED.items() for p in served if p in "rs"}
    if scope == "write":
        permissions.add(("QuestionnaireResponse", "c"))
    return Grant(frozenset(permissions))


def parse_scopes(text: str) -> Grant:
    """The permissions a space-separated list of system scopes asks for; ScopeError otherwise."""
    scopes = text.split()
    if not scopes:
        raise ScopeError("Ask for at least one scope, e.g. system/Observation.rs.")
    permissions: set[tuple[str, str]] = set()
    for scope in scopes:
        permissions |= _expand(scope)
    return Grant(frozenset(permissions))


def _expand(scope: str) -> set[tuple[str, str]]:
    match = SCOPE.match(scope)
    if match is None:
        raise ScopeError(
            f"Scope {scope!r} is not a system scope this server grants: backend services ask for "
            "system/<type>.<permissions>, e.g. system/Observation.rs."
        )
    letters = _letters(scope, match["permissions"])
    types = list(SERVED) if match["type"] == "*" else [match["type"]]
    if match["type"] != "*" and match["type"] not in SERVED:
        raise ScopeError(f"Scope {scope!r}: this server has no {match['type']} resources.")
    expanded = {(t, p) for t in types for p in letters if p in SERVED[t]}
    if not expanded:
        raise ScopeError(f"Scope {scope!r} grants nothing this server does.")
    return expanded


def _letters(scope: str, permissions: str) -> str:
    if permissions in V1_PERMISSIONS:
        return V1_PERMISSIONS[permissions]
    # SMART v2: a non-empty subset of c, r, u, d, s, in that order.
    if re.fullmatch(r"c?r?u?d?s?", permissions) and permissions:
        return permissions
    raise ScopeError(f"Scope {scope!r}: permissions are SMART v2 letters in the order cruds, or read/write/*.")
