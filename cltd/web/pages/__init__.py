"""HTML pages for members, board members and stewards."""

from flask import Blueprint

bp = Blueprint("pages", __name__)

from cltd.web.pages import (  # noqa: E402, F401
    apps,
    home,
    language,
    signin,
    steward,
    steward_clients,
)
