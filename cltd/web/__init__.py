"""The Flask application: create_app(settings) wires everything; nothing happens at import."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, g
from flask_babel import Babel, gettext
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from cltd.adapters.datadir import bylaws_path
from cltd.config import Settings, load_settings
from cltd.db import check_sqlite_settings, make_engine, make_sessionmaker
from cltd.resources import translations_dir
from cltd.rules.bylaws import load_bylaws
from cltd.web import auth, i18n
from cltd.web.problems import problem, register_error_handlers
from cltd.web.security import CONTENT_SECURITY_POLICY
from cltd.web.state import AppState


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    session_factory: sessionmaker[Session] | None = None,
) -> Flask:
    """Build the app for SETTINGS (default: read from the data directory and CLTD_*).

    Tests may hand in SESSION_FACTORY (bound to a connection they roll back afterwards).
    """
    settings = settings or load_settings()
    bylaws = load_bylaws(bylaws_path(settings))
    if session_factory is None:
        engine = engine or make_engine(settings.database_url)
        check_sqlite_settings(engine)
        read_sessions, write_sessions = (
            make_sessionmaker(engine, writes=False),
            make_sessionmaker(engine, writes=True),
        )
    else:
        read_sessions = write_sessions = session_factory

    app = Flask(__name__)
    if settings.proxy_hops:
        # Rate limits and redirects need the client's address and scheme, not the proxy's.
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="cltd_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_absolute_hours),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the signed session
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        BABEL_TRANSLATION_DIRECTORIES=str(translations_dir()),
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_uri,
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_KEY_PREFIX="cltd",
        # If the shared counter store (Redis) goes away, each worker keeps counting in memory
        # rather than failing sign-ins with a 500.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    app.extensions["cltd"] = AppState(settings, engine, bylaws, read_sessions, write_sessions)

    app.before_request(_refuse_nul_characters)
    # Know who is asking before anything can refuse the request, so refusals speak to them.
    app.before_request(auth.load_signed_in_member)
    csrf = CSRFProtect(app)
    Babel(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    limiter = Limiter(get_remote_address, app=app)

    from cltd.web.api import bp as api_bp
    from cltd.web.api import health_bp
    from cltd.web.federation import bp as federation_bp
    from cltd.web.oauth.server import build_server
    from cltd.web.oauth.views import bp as oauth_bp
    from cltd.web.pages import bp as pages_bp
    from cltd.web.transfer_messages import bp as transfer_messages_bp

    app.register_blueprint(pages_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(oauth_bp)
    app.register_blueprint(federation_bp)
    app.register_blueprint(transfer_messages_bp)
    app.extensions["cltd_oauth"] = build_server(app)
    # The API checks CSRF itself for session callers (bearer callers carry no cookie), and the
    # OAuth endpoints that clients call directly authenticate the client instead.
    csrf.exempt(api_bp)
    csrf.exempt(transfer_messages_bp)  # signed by the peer trust, verified against its key
    for endpoint in ("oauth.token", "oauth.revoke", "oauth.introspect"):
        csrf.exempt(app.view_functions[endpoint])
    _limit_signin(app, limiter, settings)
    register_error_handlers(app)
    _register_request_cycle(app)
    _register_template_helpers(app)
    return app


def _refuse_nul_characters() -> Response | None:
    """No text a person writes holds NUL, and PostgreSQL cannot store it: refuse it up front,
    naming the field it was found in."""
    from flask import request

    field = _nul_field(request)
    if field is None:
        return None
    return problem(
        400,
        gettext("A value holds a NUL character, which no text may contain."),
        code="request.nul_character",
        field=field or None,
    )


def _nul_field(request) -> str | None:  # type: ignore[no-untyped-def]
    """The name of the first field holding NUL ('' for the path), or None if there is none."""
    if "\x00" in request.path:
        return ""
    for key, found in request.values.lists():
        if "\x00" in key or any("\x00" in value for value in found):
            return key
    if request.is_json and b"\\u0000" in request.get_data(cache=True):
        return _json_nul_path(request.get_json(silent=True), "") or ""
    return None


def _json_nul_path(value: object, path: str) -> str | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        if "\x00" in str(key):
            return ".".join(filter(None, (path, str(key))))
        found = _json_nul_path(item, ".".join(filter(None, (path, str(key)))))
        if found is not None:
            return found
    return None


def _limit_signin(app: Flask, limiter: Limiter, settings: Settings) -> None:
    """Sign-in attempts: per client address, and per account whatever the address (R10)."""
    from flask import request

    from cltd.services.members import normalise_email

    def account_key() -> str:
        return "account:" + normalise_email(request.form.get("email", ""))

    view = app.view_functions["pages.signin"]
    view = limiter.limit(settings.signin_rate_limit, methods=["POST"])(view)
    view = limiter.limit("25 per hour", key_func=account_key, methods=["POST"])(view)
    app.view_functions["pages.signin"] = view
    for endpoint in ("oauth.token", "oauth.revoke", "oauth.introspect"):
        app.view_functions[endpoint] = limiter.limit(settings.token_rate_limit)(
            app.view_functions[endpoint]
        )


def _register_request_cycle(app: Flask) -> None:
    @app.after_request
    def _finish(response: Response) -> Response:
        """One commit per request, here: kept if the answer is a success, undone if not."""
        session: Session | None = g.get("db_session")
        if session is not None:
            if response.status_code < 400 or g.get("keep_changes"):
                try:
                    session.commit()
                except IntegrityError:
                    session.rollback()
                    response = problem(409, code="request.conflict")
                except OperationalError:
                    session.rollback()
                    response = problem(503, code="request.database_unavailable")
            else:
                session.rollback()
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.teardown_request
    def _close(_error: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.close()


def _register_template_helpers(app: Flask) -> None:
    from cltd.web.forms import LanguageForm, SignOutForm

    app.add_template_filter(i18n.money, "money")
    app.add_template_filter(i18n.number, "number")
    app.add_template_filter(i18n.when, "when")

    @app.context_processor
    def _helpers() -> dict[str, object]:
        from cltd.web.state import state

        return {
            "trust_name": state().settings.trust_name,
            "current_language": i18n.current_language(),
            "language_names": i18n.LANGUAGE_NAMES,
            "language_form": LanguageForm,
            "signout_form": SignOutForm,
            "current_member": auth.current_member(),
            "current_roles": auth.current_roles(),
            "switcher_next": i18n.return_path(),
        }
