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
    ClientsRegister = "steward:client:register"
    TokensManageAll = "steward:token:revoke"
    AssetsCreate = "steward:asset:create"
    ElectionsCall = "steward:election:call"
    PaymentsRecord = "steward:payment:record"
    ProposalsDraft = "board:proposal:draft"
    ProposalsExecute = "board:proposal:execute"
    PeersManage = "steward:peer:manage"
    TransfersDecide = "steward:transfer:decide"  # accept or refuse an offer, where bylaws allow


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.MEMBER: frozenset({Permission.ProfileRead, Permission.ProfileWrite}),
    Role.BOARD: frozenset(
        {
            Permission.ProfileRead,
            Permission.ProfileWrite,
            Permission.ProposalsDraft,
            Permission.ProposalsExecute,
        }
    ),
    Role.STEWARD: frozenset(Permission),
}


def allows(roles: frozenset[Role], permission: Permission) -> bool:
    return any(permission in _GRANTS[role] for role in roles)


class Scope(StrEnum):
    """What an OAuth client may ask a member (or the trust) to let it do."""

    ProfileRead = "profile:read"
    ConsentRead = "consent:read"
    ConsentWrite = "consent:write"
    RecordsRead = "records:read"
    ProposalsVote = "proposals:vote"
    CatalogRead = "catalog:read"
    TokensRead = "tokens:read"
    TokensRevoke = "tokens:revoke"
    RecordsWrite = "records:write"
    AccessRequest = "access:request"
    AssetsWrite = "assets:write"
    ClientsWrite = "clients:write"
    BoardRead = "board:read"
    BoardWrite = "board:write"
    PeersWrite = "peers:write"


# Scopes a data consumer may hold on its own behalf (client credentials, no member).
CONSUMER_SCOPES = frozenset({Scope.CatalogRead, Scope.RecordsRead, Scope.AccessRequest})
# Scopes only a steward's own authorisation can carry.
STEWARD_SCOPES = frozenset({Scope.ClientsWrite, Scope.AssetsWrite, Scope.PeersWrite})
