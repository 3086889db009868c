"""HTML pages for members, board members and stewards."""

from flask import Blueprint

bp = Blueprint("pages", __name__)

from cltd.web.pages import (  # noqa: E402, F401
    apps,
    asset_history,
    board,
    board_seats,
    contribute,
    federation_pages,
    home,
    language,
    mydata,
    signin,
    steward,
    steward_assets,
    steward_clients,
    steward_transfers,
)
