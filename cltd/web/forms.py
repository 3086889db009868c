"""HTML forms (Flask-WTF carries the CSRF token); labels are translated when rendered."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from cltd.config import SUPPORTED_LOCALES
from cltd.models import ClientType
from cltd.services.members import MIN_PASSWORD_LENGTH


class SignInForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()


class SignOutForm(FlaskForm):
    pass


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=[SelectChoice(code) for code in SUPPORTED_LOCALES])
    next = HiddenField()


class AddMemberForm(FlaskForm):
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)])
    member_class = SelectField(_l("Member class"), validators=[DataRequired()])
    password = PasswordField(
        _l("First password"), validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)]
    )
    is_steward = BooleanField(_l("Steward of this trust"))


class ConsentForm(FlaskForm):
    """A member's answer to an application asking for access."""

    approve = SubmitField(_l("Allow"))
    deny = SubmitField(_l("Deny"))


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes; unknown values are left for the service to name."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


_NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
_NO_CONTROL_BUT_LINES = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"  # tabs and line breaks pass


def _printable(pattern: str = _NO_CONTROL) -> Regexp:
    """No control characters: PostgreSQL refuses NUL, and nobody means to type the others."""
    return Regexp(pattern, message=_l("This holds characters that cannot be used here."))


class RegisterClientForm(FlaskForm):
    """A steward registering an application (choices of scopes are set by the view)."""

    name = StringField(
        _l("Application name"), validators=[DataRequired(), Length(max=120), _printable()]
    )
    organisation = StringField(
        _l("Organisation behind it"),
        validators=[DataRequired(), Length(max=200), _printable()],
    )
    client_type = SelectField(
        _l("Kind of application"),
        choices=[
            SelectChoice(
                ClientType.CONFIDENTIAL.value,
                _l("Confidential: a server that can keep a secret"),
            ),
            SelectChoice(
                ClientType.PUBLIC.value,
                _l("Public: runs in a browser or on a phone, keeps no secret"),
            ),
        ],
        default=ClientType.CONFIDENTIAL.value,
        validate_choice=False,
    )
    redirect_uris = TextAreaField(
        _l("Redirect addresses (one per line)"),
        validators=[Length(max=4000), _printable(_NO_CONTROL_BUT_LINES)],
    )
    scopes = MultiCheckboxField(_l("What it may ask for"), validate_choice=False)
    grant_types = MultiCheckboxField(
        _l("How it gets tokens"),
        choices=[
            SelectChoice(
                "authorization_code",
                _l("It signs members in and acts for them, with their consent"),
            ),
            SelectChoice("refresh_token", _l("It stays connected without asking again")),
            SelectChoice("client_credentials", _l("It acts on its own behalf, as a data consumer")),
        ],
        default=["authorization_code", "refresh_token"],
        validate_choice=False,
    )
    may_introspect = BooleanField(_l("A resource server that may check tokens"))
    webhook_url = StringField(
        _l("Address for withdrawal notices (optional)"), validators=[Length(max=2000)]
    )


class RevokeForm(FlaskForm):
    pass


class ConsentChangeForm(FlaskForm):
    """One cell of the consent grid: consent=1 gives, consent=0 withdraws (hidden inputs)."""

    asset_id = HiddenField()  # '' for every asset of the trust
    purpose = HiddenField(validators=[DataRequired(), Length(max=80)])
    consent = HiddenField(validators=[AnyOf(["0", "1"])])
    expires = SelectField(
        _l("For how long"),
        choices=[
            SelectChoice("", _l("No end")),
            SelectChoice("month", _l("1 month")),
            SelectChoice("year", _l("1 year")),
        ],
        default="",
    )
    until = DateField(_l("Or until this day"), validators=[Optional()])


class LeaveForm(FlaskForm):
    email = StringField(
        _l("Type your email address to confirm"),
        validators=[DataRequired(), Length(max=254), _printable()],
    )


class LanguageTextForm(Form):
    """An asset's title and description in one language (a row of the asset form)."""

    language = HiddenField()
    title = StringField(_l("Title"), validators=[Length(max=200), _printable()])
    description = TextAreaField(
        _l("Description"), validators=[Length(max=4000), _printable(_NO_CONTROL_BUT_LINES)]
    )


class AssetForm(FlaskForm):
    """A steward creating an asset; the view parses the text areas for the service."""

    slug = StringField(
        _l("Short name (used in addresses)"),
        validators=[DataRequired(), Length(max=80), _printable()],
    )
    texts = FieldList(
        FormField(LanguageTextForm), min_entries=1, max_entries=len(SUPPORTED_LOCALES)
    )
    new_language = SelectField(_l("Language to add"), validate_choice=False)
    add_language = SubmitField(_l("Add a language"))
    keywords = StringField(
        _l("Keywords, separated by commas"), validators=[Length(max=1000), _printable()]
    )
    record_fields = TextAreaField(
        _l("Fields of a record, one per line: name type [required]"),
        validators=[DataRequired(), Length(max=4000), _printable(_NO_CONTROL_BUT_LINES)],
    )
    contributing_classes = MultiCheckboxField(_l("Who contributes records"), validate_choice=False)
    permitted = TextAreaField(
        _l("Permitted purposes, one per line: purpose: field, field"),
        validators=[Length(max=8000), _printable(_NO_CONTROL_BUT_LINES)],
    )
    prohibited = MultiCheckboxField(_l("Prohibited purposes"), validate_choice=False)
    duties = MultiCheckboxField(
        _l("Duties of every consumer"),
        choices=[
            SelectChoice("attribution", _l("Attribution: name the trust as the source")),
            SelectChoice("share-alike", _l("Share-alike: share results under the same terms")),
            SelectChoice("report-back", _l("Report back: tell the trust what was found")),
        ],
        validate_choice=False,
    )
    create = SubmitField(_l("Create the asset"))


class ContributeForm(FlaskForm):
    """Only the CSRF token: the asset's fields are read by name (value-<field>) by the view."""


class ProposalForm(FlaskForm):
    """A board member drafts a proposal; choices (assets, requests) are set by the view."""

    kind = SelectField(_l("Kind of proposal"), validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200), _printable()])
    text = TextAreaField(
        _l("What is proposed, and why"),
        validators=[Optional(), Length(max=20000), _printable(_NO_CONTROL_BUT_LINES)],
    )
    asset_id = SelectField(_l("Asset"), validators=[Optional()], validate_choice=False)
    recipient = StringField(
        _l("Recipient (for a transfer)"), validators=[Optional(), Length(max=200), _printable()]
    )
    recipient_locked = BooleanField(_l("The recipient is asset-locked (another trust)"))
    recipient_peer_id = SelectField(
        _l("To a trust we pin (for a transfer)"),
        validators=[Optional(), Regexp(r"^\d{1,9}$")],
        validate_choice=False,
    )
    access_request_id = SelectField(
        _l("Access request (for a licence)"), validators=[Optional()], validate_choice=False
    )
    bylaws_text = TextAreaField(
        _l("The whole new bylaws file (for an amendment)"),
        validators=[Optional(), Length(max=200000), _printable(_NO_CONTROL_BUT_LINES)],
    )


class PlainForm(FlaskForm):
    """A button that only needs its CSRF token (open a vote, carry out a decision)."""


class RefuseOfferForm(FlaskForm):
    """A steward refusing an asset another trust offers: the reason goes to that trust."""

    reason = StringField(
        _l("Why (the other trust sees it)"),
        validators=[Optional(), Length(max=500), _printable()],
    )


class BallotForm(FlaskForm):
    choice = HiddenField(validators=[AnyOf(["yes", "no", "abstain"])])


class SeatForm(FlaskForm):
    seat = SelectField(_l("Seat"), validators=[DataRequired()], validate_choice=False)
    member_id = SelectField(_l("Member"), validators=[DataRequired()], validate_choice=False)
    term_end = DateField(_l("Term ends (optional)"), validators=[Optional()])


class ElectionForm(FlaskForm):
    member_class = SelectField(_l("Member class"), validators=[DataRequired()])
    seat_numbers = StringField(
        _l("Seats to elect (numbers, separated by commas)"),
        validators=[DataRequired(), Regexp(r"^\s*\d+(\s*,\s*\d+)*\s*$")],
    )
    opens_on = DateField(_l("Voting opens"), validators=[DataRequired()])
    closes_on = DateField(_l("Voting closes"), validators=[DataRequired()])
    term_months = StringField(
        _l("Term of office (months)"), validators=[DataRequired(), Regexp(r"^\d{1,3}$")]
    )


class CandidateForm(FlaskForm):
    member_id = SelectField(_l("Candidate"), validators=[DataRequired()], validate_choice=False)
    statement = TextAreaField(
        _l("Statement"),
        validators=[Optional(), Length(max=4000), _printable(_NO_CONTROL_BUT_LINES)],
    )


class ElectionVoteForm(FlaskForm):
    candidate_id = HiddenField(validators=[DataRequired(), Regexp(r"^\d{1,9}$")])


class PaymentForm(FlaskForm):
    amount = StringField(
        _l("Amount received"),
        validators=[DataRequired(), Regexp(r"^\d{1,11}([.,]\d{1,2})?$")],
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=2000), _printable()])


class PeerForm(FlaskForm):
    url = StringField(
        _l("The peer trust's address"),
        validators=[DataRequired(), Length(max=300), Regexp(r"^https?://\S+$")],
    )
    key = HiddenField(validators=[Optional(), Length(max=120)])
