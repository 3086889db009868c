"""Who may do what, named as scope:resource:action (one role set per caller)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    MEMBER = "member"
    BOARD = "board"
    STEWARD = "steward"


class Permission(StrEnum):
    MembersList = "steward:member:list"
    MembersAdd = "steward:member:add"
    SeatsAssign = "steward:seat:assign"
    AuditRead = "steward:audit:read"
    ProfileRead = "member:profile:read"
    ProfileWrite = "member:profile:write"


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.MEMBER: frozenset({Permission.ProfileRead, Permission.ProfileWrite}),
    Role.BOARD: frozenset({Permission.ProfileRead, Permission.ProfileWrite}),
    Role.STEWARD: frozenset(Permission),
}


def allows(roles: frozenset[Role], permission: Permission) -> bool:
    return any(permission in _GRANTS[role] for role in roles)
