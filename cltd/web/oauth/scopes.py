"""What each scope lets an application do, in words a member reads on the consent screen."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from cltd.rules.roles import Scope

_DESCRIPTIONS = {
    Scope.ProfileRead: _l("See your name, your member class and your roles in the trust."),
    Scope.ConsentRead: _l("See which purposes you have consented to."),
    Scope.ConsentWrite: _l("Give or withdraw your consent to purposes on your behalf."),
    Scope.RecordsRead: _l("Read records for the purposes you and the trust allow."),
    Scope.ProposalsVote: _l("Cast and change your ballots on board proposals."),
    Scope.CatalogRead: _l("Read the trust's catalogue of data assets."),
    Scope.TokensRead: _l("See which applications you have connected."),
    Scope.TokensRevoke: _l("Disconnect applications you have connected."),
    Scope.RecordsWrite: _l("Add records to the trust's assets in your name."),
    Scope.AccessRequest: _l("Ask the trust for access to an asset for a purpose."),
    Scope.AssetsWrite: _l("Create data assets (stewards only)."),
    Scope.ClientsWrite: _l("Register applications with the trust (stewards only)."),
    Scope.BoardRead: _l("See the board: its seats, proposals, tallies, elections and ledger."),
    Scope.BoardWrite: _l("Draft, open and carry out board proposals in your name."),
    Scope.PeersWrite: _l("Pin peer trusts and sync their catalogs (stewards only)."),
}


def scope_descriptions(scopes: list[str]) -> list[tuple[str, str]]:
    return [(scope, str(_DESCRIPTIONS[Scope(scope)])) for scope in scopes if scope in _DESCRIPTIONS]
