"""OAuth 2.0 endpoints: authorize (with the member's consent screen), token, revoke,
introspect, and the server metadata (RFC 8414)."""

from __future__ import annotations

from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from flask import (
    Blueprint,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from werkzeug.wrappers import Response

from cltd.rules.roles import STEWARD_SCOPES, Role, Scope
from cltd.web.auth import current_member, current_roles, signin_required
from cltd.web.forms import ConsentForm
from cltd.web.oauth.scopes import scope_descriptions
from cltd.web.problems import problem
from cltd.web.security import CONTENT_SECURITY_POLICY
from cltd.web.state import keep_changes_on_error, state

bp = Blueprint("oauth", __name__)


def issuer() -> str:
    """The configured public address of the trust, else the address this request reached."""
    return state().settings.base_url.rstrip("/") or request.host_url.rstrip("/")


def _server():  # type: ignore[no-untyped-def]
    return current_app.extensions["cltd_oauth"]


def _refuse_before_redirect(error: OAuth2Error) -> Response:
    """An error we may not send back to the app: its redirect address is not trusted (R1)."""
    return problem(400, error.description or error.error, code=f"oauth.{error.error}")


@bp.route("/oauth/authorize", methods=["GET", "POST"])
@signin_required
def authorize() -> Response | str:
    member = current_member()
    try:
        grant = _server().get_consent_grant(end_user=member)
    except OAuth2Error as error:
        if getattr(error, "redirect_uri", None):
            return _server().handle_error_response(None, error)
        return _refuse_before_redirect(error)
    except ValueError:
        # authlib refuses to build an error whose text holds characters RFC 6749 forbids
        # (it echoes the request's values): the request is malformed either way.
        return problem(400, code="oauth.invalid_request")
    if Role.STEWARD not in current_roles():
        # A member who is not a steward cannot hand an app a steward's powers.
        kept = [s for s in (grant.request.scope or "").split() if Scope(s) not in STEWARD_SCOPES]
        grant.request.scope = " ".join(kept)
    form = ConsentForm()
    if request.method == "GET":
        client = grant.client.row
        scopes = grant.request.scope.split() if grant.request.scope else []
        response = make_response(
            render_template(
                "oauth/consent.html",
                form=form,
                client=client,
                scopes=scope_descriptions(scopes),
                query=request.query_string.decode(),
            )
        )
        # The answer to this form redirects to the app, and CSP form-action also governs
        # redirects after a submission: allow that one origin, and only it.
        target = urlsplit(grant.redirect_uri)
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
            "form-action 'self'", f"form-action 'self' {target.scheme}://{target.netloc}"
        )
        return response
    if not form.validate_on_submit():
        return problem(400, gettext("The consent form was not filled in."), field="decision")
    approved = form.approve.data
    return _server().create_authorization_response(
        grant=grant, grant_user=member if approved else None
    )


@bp.post("/oauth/token")
def token() -> Response:
    keep_changes_on_error()
    return _server().create_token_response()


@bp.post("/oauth/revoke")
def revoke() -> Response:
    keep_changes_on_error()
    return _server().create_endpoint_response("revocation")


@bp.post("/oauth/introspect")
def introspect() -> Response:
    return _server().create_endpoint_response("introspection")


@bp.get("/.well-known/oauth-authorization-server")
def metadata() -> Response:
    base = issuer()
    return jsonify(
        issuer=base,
        authorization_endpoint=base + url_for("oauth.authorize"),
        token_endpoint=base + url_for("oauth.token"),
        revocation_endpoint=base + url_for("oauth.revoke"),
        introspection_endpoint=base + url_for("oauth.introspect"),
        scopes_supported=[s.value for s in Scope],
        response_types_supported=["code"],
        response_modes_supported=["query"],
        grant_types_supported=["authorization_code", "refresh_token", "client_credentials"],
        code_challenge_methods_supported=["S256"],
        token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post", "none"],
        revocation_endpoint_auth_methods_supported=[
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        introspection_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
        service_documentation=base + "/api/v1/openapi.json",
    )
