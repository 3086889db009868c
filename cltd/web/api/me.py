"""/api/v1/me: the signed-in member as the API sees them."""

from __future__ import annotations

from flask import jsonify
from werkzeug.wrappers import Response

from cltd.web.api import bp
from cltd.web.auth import current_member, current_roles, signin_required


@bp.get("/me")
@signin_required
def me() -> Response:
    member = current_member()
    assert member is not None  # signin_required guarantees it
    return jsonify(
        id=member.id,
        display_name=member.display_name,
        member_class=member.member_class,
        roles=sorted(current_roles()),
        locale=member.locale,
    )
