"""HTML forms (Flask-WTF carries the CSRF token); labels are translated when rendered."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from cltd.config import SUPPORTED_LOCALES
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
