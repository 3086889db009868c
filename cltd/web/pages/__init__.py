"""HTML pages for members, board members and stewards."""

from flask import Blueprint

bp = Blueprint("pages", __name__)

from cltd.web.pages import home, language, signin, steward  # noqa: E402, F401
