"""/api/v1/me: the signed-in member as the API sees them."""

from __future__ import annotations

from flask import jsonify
from werkzeug.wrappers import Response

from cltd.rules.roles import Scope
from cltd.web.api import bp
from cltd.web.auth import current_member, current_roles
from cltd.web.oauth.resource import api_access
from cltd.web.problems import problem


@bp.get("/me")
@api_access(Scope.ProfileRead)
def me() -> Response:
    member = current_member()
    if member is None:  # a consumer acting for itself has no member profile
        return problem(403, code="api.member_only")
    return jsonify(
        id=member.id,
        display_name=member.display_name,
        member_class=member.member_class,
        roles=sorted(current_roles()),
        locale=member.locale,
    )
