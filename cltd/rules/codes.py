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
    PASSWORD_TOO_SHORT = "member.password_too_short"  # noqa: S105 - a code
    LOCALE_UNKNOWN = "member.locale_unknown"
    SIGNIN_FAILED = "session.signin_failed"
    SEAT_UNKNOWN = "seat.unknown"
    SEAT_WRONG_CLASS = "seat.wrong_class"
    ASSET_SLUG_INVALID = "asset.slug_invalid"
    ASSET_SLUG_TAKEN = "asset.slug_taken"
    ASSET_TITLE_REQUIRED = "asset.title_required"
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
