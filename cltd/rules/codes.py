"""Names for every refusal and problem the trust can report, and the sentence each one shows.

Codes are stable identifiers (they appear in problem+json `code`, audit details and tests);
the sentences are marked for translation with N_ and translated where they are shown (the web
layer for pages and problem bodies, the CLI for a steward's terminal).
"""

from __future__ import annotations

from enum import StrEnum


def N_(message: str) -> str:  # the conventional gettext marker name
    """Mark a string for extraction into the message catalogue without translating it yet."""
    return message


class Code(StrEnum):
    EMAIL_INVALID = "member.email_invalid"
    EMAIL_TAKEN = "member.email_taken"
    NAME_REQUIRED = "member.name_required"
    CLASS_UNKNOWN = "member.class_unknown"
    PASSWORD_TOO_SHORT = "member.password_too_short"
    LOCALE_UNKNOWN = "member.locale_unknown"
    SIGNIN_FAILED = "session.signin_failed"
    SEAT_UNKNOWN = "seat.unknown"
    SEAT_WRONG_CLASS = "seat.wrong_class"
    ASSET_SLUG_INVALID = "asset.slug_invalid"
    ASSET_SLUG_TAKEN = "asset.slug_taken"
    ASSET_TITLE_REQUIRED = "asset.title_required"
    CLIENT_NAME_REQUIRED = "client.name_required"
    CLIENT_TYPE_UNKNOWN = "client.type_unknown"
    CLIENT_REDIRECT_URI_INVALID = "client.redirect_uri_invalid"
    CLIENT_REDIRECT_URI_REQUIRED = "client.redirect_uri_required"
    CLIENT_SCOPE_UNKNOWN = "client.scope_unknown"
    CLIENT_GRANT_UNKNOWN = "client.grant_unknown"
    CLIENT_PUBLIC_NO_CREDENTIALS = "client.public_no_client_credentials"
    CLIENT_UNKNOWN = "client.unknown"
    TOKEN_UNKNOWN = "token.unknown"
    PURPOSE_UNKNOWN = "purpose.unknown"
    PURPOSE_PROHIBITED_BY_BYLAWS = "purpose.prohibited_by_bylaws"
    PURPOSE_PROHIBITED_BY_POLICY = "purpose.prohibited_by_policy"
    PURPOSE_NOT_PERMITTED = "purpose.not_permitted"
    POLICY_CONTRADICTS_ITSELF = "policy.contradicts_itself"
    POLICY_FIELD_UNKNOWN = "policy.field_unknown"
    DUTY_UNKNOWN = "asset.duty_unknown"
    FIELDS_REQUIRED = "asset.fields_required"
    FIELD_NAME_INVALID = "asset.field_name_invalid"
    FIELD_TYPE_UNKNOWN = "asset.field_type_unknown"
    FIELD_UNKNOWN = "record.field_unknown"
    FIELD_MISSING = "record.field_missing"
    FIELD_WRONG_TYPE = "record.field_wrong_type"
    NOT_A_CONTRIBUTING_CLASS = "record.class_not_contributing"
    ASSET_UNKNOWN = "asset.unknown"
    CONTRIBUTOR_UNKNOWN = "record.contributor_unknown"
    CONTRIBUTOR_MISSING = "record.contributor_missing"
    MEMBER_NOT_ACTIVE = "member.not_active"
    ASSET_NOT_HELD = "asset.not_held"
    CONSENT_EXPIRY_PAST = "consent.expiry_in_the_past"
    CONSENT_UNKNOWN = "consent.unknown"
    JUSTIFICATION_REQUIRED = "access.justification_required"
    GRANT_UNKNOWN = "access.grant_unknown"
    STEWARD_ONLY = "api.steward_only"
    MEMBER_ONLY = "api.member_only"
    CONSUMER_ONLY = "api.consumer_only"
    PURPOSE_REQUIRED = "access.purpose_required"
    TIME_INVALID = "request.time_invalid"
    PAGE_INVALID = "access.page_invalid"
    NO_LIVE_GRANT = "access.no_live_grant"
    NO_LIVE_CONSENT = "access.no_live_consent"
    PROPOSAL_TITLE_REQUIRED = "proposal.title_required"
    PROPOSAL_UNKNOWN = "proposal.unknown"
    PROPOSAL_NOT_DRAFT = "proposal.not_draft"
    PROPOSAL_CLOSED = "proposal.closed"
    PROPOSAL_NOT_PASSED = "proposal.not_passed"
    NOT_IN_ELECTORATE = "proposal.not_in_electorate"
    RECIPIENT_REQUIRED = "proposal.recipient_required"
    LOCKED_ASSET_UNLOCKED_RECIPIENT = "lock.recipient_not_locked"
    TALLY_QUORUM_NOT_MET = "tally.quorum_not_met"
    TALLY_THRESHOLD_NOT_MET = "tally.threshold_not_met"
    PROPOSAL_KIND_UNKNOWN = "proposal.kind_unknown"
    PROPOSAL_NOT_YOURS = "proposal.not_yours"
    BOARD_ONLY = "proposal.board_only"
    ACCESS_REQUEST_UNKNOWN = "proposal.request_unknown"
    ACCESS_REQUEST_NOT_PENDING = "proposal.request_not_pending"
    BYLAWS_TEXT_REQUIRED = "proposal.bylaws_required"
    BYLAWS_TEXT_INVALID = "proposal.bylaws_invalid"
    ASSET_NOT_LOCKED = "proposal.asset_not_locked"
    ELECTION_UNKNOWN = "election.unknown"
    ELECTION_CLOSED = "election.closed"
    ELECTION_NOT_OPEN_YET = "election.not_open_yet"
    ELECTION_SEATS_INVALID = "election.seats_invalid"
    ELECTION_WINDOW_INVALID = "election.window_invalid"
    ELECTION_TERM_INVALID = "election.term_invalid"
    ELECTION_WRONG_CLASS = "election.wrong_class"
    ELECTION_ALREADY_VOTED = "election.already_voted"
    CANDIDATE_UNKNOWN = "election.candidate_unknown"
    CANDIDATE_ALREADY = "election.candidate_already"
    CANDIDATES_AFTER_OPEN = "election.candidates_after_open"
    PAYMENT_AMOUNT_INVALID = "ledger.amount_invalid"
    PAYMENT_NOT_LICENCE = "ledger.not_licence"
    MEMBER_UNKNOWN = "member.unknown"
    SEAT_ALREADY_HELD = "seat.already_held"
    PEER_URL_INVALID = "peer.url_invalid"
    PEER_ALREADY_PINNED = "peer.already_pinned"
    PEER_UNKNOWN = "peer.unknown"
    PEER_KEY_MISMATCH = "peer.key_mismatch"
    PEER_NOT_LOCKED = "peer.not_asset_locked"
    BASE_URL_REQUIRED = "trust.base_url_required"
    ASSET_BEING_OFFERED = "asset.being_offered"
    TRANSFER_UNKNOWN = "transfer.unknown"
    TRANSFER_NOT_OPEN = "transfer.not_open"
    TRANSFER_EXPIRED = "transfer.expired"
    TRANSFER_BOARD_DECIDES = "transfer.board_decides"
    TRANSFER_STEWARD_DECIDES = "transfer.steward_decides"
    TRANSFER_REASON_REQUIRED = "transfer.reason_required"
    TRANSFER_ALREADY_PROPOSED = "transfer.already_before_the_board"
    TRANSFER_UNKNOWN_TRUST = "transfer.unknown_trust"
    TRANSFER_BAD_DOCUMENT = "transfer.bad_document"
    TRANSFER_WRONG_RECIPIENT = "transfer.wrong_recipient"
    TRANSFER_DECISION_NOT_RECOUNTED = "transfer.decision_not_recounted"
    TRANSFER_DECISION_MISMATCH = "transfer.decision_mismatch"
    TRANSFER_ASSET_NOT_LOCKED = "transfer.asset_not_locked"
    TRANSFER_ASSET_NOT_HELD = "transfer.asset_not_held"
    TRANSFER_REPLAYED = "transfer.replayed"
    TRANSFER_PACKAGE_CHANGED = "transfer.package_changed"
    TRANSFER_PACKAGE_INVALID = "transfer.package_invalid"
    AUDIT_ENTRY_ALTERED = "audit.entry_altered"
    AUDIT_ENTRY_MISSING = "audit.entry_missing"
    AUDIT_LINK_BROKEN = "audit.link_broken"
    AUDIT_TAIL_REMOVED = "audit.tail_removed"


MESSAGES: dict[Code, str] = {
    Code.EMAIL_INVALID: N_("This is not an email address."),
    Code.EMAIL_TAKEN: N_("A member with this email address already exists."),
    Code.NAME_REQUIRED: N_("A name is required."),
    Code.CLASS_UNKNOWN: N_("The bylaws have no member class called “%(value)s”."),
    Code.PASSWORD_TOO_SHORT: N_("A password needs at least %(minimum)s characters."),
    Code.LOCALE_UNKNOWN: N_("This language is not available."),
    Code.SIGNIN_FAILED: N_("The email address or the password is not right."),
    Code.SEAT_UNKNOWN: N_("The bylaws give class “%(member_class)s” no seat %(number)s."),
    Code.SEAT_WRONG_CLASS: N_(
        "A seat of class “%(seat_class)s” cannot go to a member of class “%(member_class)s”."
    ),
    Code.ASSET_SLUG_INVALID: N_(
        "A short name uses lowercase letters, digits and hyphens (2 to 80 characters)."
    ),
    Code.ASSET_SLUG_TAKEN: N_("Another asset already has this short name."),
    Code.ASSET_TITLE_REQUIRED: N_("An asset needs a title in at least one language."),
    Code.CLIENT_NAME_REQUIRED: N_("An application needs a name and the organisation behind it."),
    Code.CLIENT_TYPE_UNKNOWN: N_("An application is either public or confidential."),
    Code.CLIENT_REDIRECT_URI_INVALID: N_(
        "“%(value)s” is not a redirect address: use https://, or http:// on this machine "
        "(127.0.0.1, [::1] or localhost), with no fragment."
    ),
    Code.CLIENT_REDIRECT_URI_REQUIRED: N_(
        "An application that signs members in needs at least one redirect address."
    ),
    Code.CLIENT_SCOPE_UNKNOWN: N_("“%(value)s” is not a scope this trust knows."),
    Code.CLIENT_GRANT_UNKNOWN: N_("“%(value)s” is not a grant type this trust offers."),
    Code.CLIENT_PUBLIC_NO_CREDENTIALS: N_(
        "A public application cannot keep a secret, so it cannot act on its own behalf."
    ),
    Code.CLIENT_UNKNOWN: N_("There is no such application."),
    Code.TOKEN_UNKNOWN: N_("There is no such access token."),
    Code.PURPOSE_UNKNOWN: N_("The trust's taxonomy has no purpose “%(purpose)s”."),
    Code.PURPOSE_PROHIBITED_BY_BYLAWS: N_(
        "The trust's bylaws prohibit the purpose “%(purpose)s” for every asset."
    ),
    Code.PURPOSE_PROHIBITED_BY_POLICY: N_(
        "This asset's policy prohibits the purpose “%(purpose)s”."
    ),
    Code.PURPOSE_NOT_PERMITTED: N_(
        "This asset's policy does not permit the purpose “%(purpose)s”."
    ),
    Code.POLICY_CONTRADICTS_ITSELF: N_(
        "The purpose “%(purpose)s” cannot be both permitted and prohibited."
    ),
    Code.POLICY_FIELD_UNKNOWN: N_("The asset has no field “%(field)s”."),
    Code.DUTY_UNKNOWN: N_("A duty is attribution, share-alike or report-back."),
    Code.FIELDS_REQUIRED: N_("An asset needs at least one field."),
    Code.FIELD_NAME_INVALID: N_(
        "“%(name)s” is not a usable field name: lowercase letters, digits and underscores, "
        "starting with a letter, each name once."
    ),
    Code.FIELD_TYPE_UNKNOWN: N_(
        "“%(type)s” is not a field type: use text, integer, number, boolean or date."
    ),
    Code.FIELD_UNKNOWN: N_("This asset has no field “%(field)s”."),
    Code.FIELD_MISSING: N_("The field “%(field)s” is required."),
    Code.FIELD_WRONG_TYPE: N_("The field “%(field)s” must be of type %(type)s."),
    Code.NOT_A_CONTRIBUTING_CLASS: N_("Members of your class do not contribute to this asset."),
    Code.ASSET_UNKNOWN: N_("There is no such asset."),
    Code.CONTRIBUTOR_UNKNOWN: N_("No active member has the email address %(email)s."),
    Code.CONTRIBUTOR_MISSING: N_("The contributor column is empty."),
    Code.MEMBER_NOT_ACTIVE: N_("This member has left the trust."),
    Code.ASSET_NOT_HELD: N_("The trust no longer holds this asset."),
    Code.CONSENT_EXPIRY_PAST: N_("A consent cannot end before it begins."),
    Code.CONSENT_UNKNOWN: N_("There is no such consent of yours."),
    Code.JUSTIFICATION_REQUIRED: N_(
        "Say in a few sentences (10 to 4000 characters) why you need this data."
    ),
    Code.GRANT_UNKNOWN: N_("There is no such grant."),
    Code.STEWARD_ONLY: N_("Only a steward of the trust may do this."),
    Code.MEMBER_ONLY: N_("Only a member can do this, not an application acting for itself."),
    Code.CONSUMER_ONLY: N_("Only a data consumer's application, holding a grant, reads records."),
    Code.TIME_INVALID: N_("Give a time with its zone, like 2027-01-31T12:00:00Z."),
    Code.PURPOSE_REQUIRED: N_("Say for which purpose you read (?purpose=…)."),
    Code.PAGE_INVALID: N_("Paging takes after ≥ 0 and a limit from 1 to 1000."),
    Code.NO_LIVE_GRANT: N_("You hold no live grant for this asset and purpose."),
    Code.NO_LIVE_CONSENT: N_("The member has not consented to this purpose."),
    Code.PROPOSAL_TITLE_REQUIRED: N_("A proposal needs a title."),
    Code.PROPOSAL_UNKNOWN: N_("There is no such proposal."),
    Code.PROPOSAL_NOT_DRAFT: N_("Only a draft can be opened for voting."),
    Code.PROPOSAL_CLOSED: N_("Voting on this proposal has closed."),
    Code.PROPOSAL_NOT_PASSED: N_("Only a proposal that passed can be carried out."),
    Code.NOT_IN_ELECTORATE: N_("You held no board seat when this proposal opened."),
    Code.RECIPIENT_REQUIRED: N_("A transfer needs a recipient."),
    Code.LOCKED_ASSET_UNLOCKED_RECIPIENT: N_(
        "This asset is asset-locked: it can go only to a recipient that is asset-locked too. "
        "Lifting the lock is a proposal of its own, with a higher bar."
    ),
    Code.TALLY_QUORUM_NOT_MET: N_("Too few of this class's seats cast a ballot."),
    Code.TALLY_THRESHOLD_NOT_MET: N_("Too few of this class's ballots said yes."),
    Code.PROPOSAL_KIND_UNKNOWN: N_("There is no such kind of proposal: %(value)s."),
    Code.PROPOSAL_NOT_YOURS: N_(
        "Only the member who drafted this proposal, or a steward, can open it for voting."
    ),
    Code.BOARD_ONLY: N_("Only a member holding a board seat, or a steward, can draft a proposal."),
    Code.ACCESS_REQUEST_UNKNOWN: N_("There is no such access request."),
    Code.ACCESS_REQUEST_NOT_PENDING: N_("This access request is not waiting for the board."),
    Code.BYLAWS_TEXT_REQUIRED: N_("An amendment needs the whole new bylaws file."),
    Code.BYLAWS_TEXT_INVALID: N_("The proposed bylaws cannot be adopted: %(problem)s"),
    Code.ASSET_NOT_LOCKED: N_("This asset is not asset-locked: there is no lock to lift."),
    Code.ELECTION_UNKNOWN: N_("There is no such election."),
    Code.ELECTION_CLOSED: N_("This election has closed."),
    Code.ELECTION_NOT_OPEN_YET: N_("Voting in this election has not started yet."),
    Code.ELECTION_SEATS_INVALID: N_("Choose one or more seats of the class, each once."),
    Code.ELECTION_WINDOW_INVALID: N_("An election must close after it opens, within a year."),
    Code.ELECTION_TERM_INVALID: N_("A term lasts from 1 to 120 months."),
    Code.ELECTION_WRONG_CLASS: N_(
        "Only members of the class “%(member_class)s” take part in this election."
    ),
    Code.ELECTION_ALREADY_VOTED: N_("You have already voted in this election."),
    Code.CANDIDATE_UNKNOWN: N_("This member is not a candidate in this election."),
    Code.CANDIDATE_ALREADY: N_("This member is already a candidate."),
    Code.CANDIDATES_AFTER_OPEN: N_("Candidates can be added only before voting starts."),
    Code.PAYMENT_AMOUNT_INVALID: N_("A payment is a positive amount, like 1250.00."),
    Code.PAYMENT_NOT_LICENCE: N_(
        "Payments are recorded against a licence the board passed and carried out."
    ),
    Code.MEMBER_UNKNOWN: N_("There is no such member."),
    Code.SEAT_ALREADY_HELD: N_(
        "This member already holds seat %(number)s of “%(member_class)s”: one member, one seat."
    ),
    Code.PEER_URL_INVALID: N_("Give the peer trust's address, like https://trust.example.org."),
    Code.PEER_ALREADY_PINNED: N_("This trust already pins that peer."),
    Code.PEER_UNKNOWN: N_("This trust pins no such peer."),
    Code.PEER_KEY_MISMATCH: N_("The key the peer publishes is not the key you gave."),
    Code.PEER_NOT_LOCKED: N_(
        "That trust does not say it holds its assets under an asset lock, so this locked asset "
        "cannot go to it."
    ),
    Code.BASE_URL_REQUIRED: N_(
        "Set base_url in the trust's config.toml (its public address) before sending an offer "
        "to another trust."
    ),
    Code.ASSET_BEING_OFFERED: N_(
        "This asset is offered to another trust: nothing about it can change until that trust "
        "accepts or refuses, or the offer expires."
    ),
    Code.TRANSFER_UNKNOWN: N_("There is no such transfer."),
    Code.TRANSFER_NOT_OPEN: N_("This offer is no longer waiting for a decision."),
    Code.TRANSFER_EXPIRED: N_(
        "The offer expired before it was accepted; the asset stays with the trust that offered it."
    ),
    Code.TRANSFER_BOARD_DECIDES: N_(
        "Our bylaws give this decision to the board: put the offer to the board as a proposal."
    ),
    Code.TRANSFER_STEWARD_DECIDES: N_("Our bylaws give this decision to the steward."),
    Code.TRANSFER_REASON_REQUIRED: N_("Say why the offer is refused; the other trust sees it."),
    Code.TRANSFER_ALREADY_PROPOSED: N_(
        "This offer is already before the board, in proposal %(proposal)s."
    ),
    Code.TRANSFER_UNKNOWN_TRUST: N_(
        "This trust does not pin the trust that sent the message; a steward must pin it first."
    ),
    Code.TRANSFER_BAD_DOCUMENT: N_("The message cannot be used: %(problem)s"),
    Code.TRANSFER_WRONG_RECIPIENT: N_("The offer names another trust as its recipient."),
    Code.TRANSFER_DECISION_NOT_RECOUNTED: N_("The decision record does not recount: %(problem)s"),
    Code.TRANSFER_DECISION_MISMATCH: N_(
        "The decision record is not a passed transfer of this asset to this trust."
    ),
    Code.TRANSFER_ASSET_NOT_LOCKED: N_(
        "The asset offered is not asset-locked; this trust receives only locked assets."
    ),
    Code.TRANSFER_ASSET_NOT_HELD: N_("The trust that offers this asset does not hold it."),
    Code.TRANSFER_REPLAYED: N_("This offer was already settled: it is a replay and was ignored."),
    Code.TRANSFER_PACKAGE_CHANGED: N_(
        "The asset's records or consents changed since they were fetched; they are fetched again."
    ),
    Code.TRANSFER_PACKAGE_INVALID: N_("The asset's records cannot be received: %(problem)s"),
    Code.AUDIT_ENTRY_ALTERED: N_(
        "Entry %(seq)s was changed after it was written: its contents no longer match its hash."
    ),
    Code.AUDIT_ENTRY_MISSING: N_(
        "Entry %(seq)s is missing: the log jumps from %(before)s to %(after)s."
    ),
    Code.AUDIT_LINK_BROKEN: N_(
        "Entry %(seq)s does not link to the entry before it: entries were reordered or replaced."
    ),
    Code.AUDIT_TAIL_REMOVED: N_(
        "The log ends at entry %(last)s but its head names entry %(head)s: entries were removed."
    ),
}
