"""Who is calling the API for a member: the signed-in member (or the member a token acts for),
and whether their roles allow a permission. Refused with a problem naming why."""

from __future__ import annotations

from cltd.models import Member
from cltd.rules.codes import Code
from cltd.rules.roles import Permission, allows
from cltd.services.errors import Forbidden
from cltd.web.auth import current_member, current_roles


def member_caller() -> Member:
    member = current_member()
    if member is None:
        raise Forbidden(Code.MEMBER_ONLY)
    return member


def require(permission: Permission, code: Code = Code.STEWARD_ONLY) -> Member:
    member = member_caller()
    if not allows(current_roles(), permission):
        raise Forbidden(code)
    return member
