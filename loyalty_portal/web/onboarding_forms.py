"""Forms of the shop and login screens (admin's shops, owner's logins and first program). They
only parse what was typed; the services check the rules, and a refusal that names a field
(ValidationError, VendorAlreadyExists, UserAlreadyExists) is shown beside that field."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from ..errors import UserAlreadyExists, ValidationError, VendorAlreadyExists
from ..i18n import SUPPORTED_LOCALES
from .navigation import LANGUAGE_NAMES
from .vendor_forms import OwnerForm

# Refusals that belong beside a field of the form that was sent.
FIELD_ERRORS = (ValidationError, VendorAlreadyExists, UserAlreadyExists)
EMAIL_INPUT = {"autocomplete": "off", "autocapitalize": "none", "maxlength": 254}


def submitted(form: OwnerForm, service_call, *args, **kwargs):
    """Run a form's one service call; a refusal about a field is shown there and gives None."""
    try:
        return service_call(*args, **kwargs)
    except FIELD_ERRORS as error:
        form.show_error(error)
        return None


def _languages():
    return [SelectChoice(code, LANGUAGE_NAMES[code], render_kw={"lang": code})
            for code in SUPPORTED_LOCALES]


class VendorForm(OwnerForm):
    SERVICE_FIELDS = {"email": "owner_email", "default_locale": "language"}

    name = StringField(_l("Shop name"), render_kw={"maxlength": 200})
    slug = StringField(_l("Short name in links (a-z, 0-9 and -)"),
                       render_kw={"maxlength": 80, "autocapitalize": "none"})
    timezone = StringField(_l("Time zone"), default="Europe/Luxembourg",
                           render_kw={"maxlength": 64})
    currency = StringField(_l("Currency (three letters)"), default="EUR",
                           render_kw={"maxlength": 3})
    language = SelectField(_l("Language"), choices=_languages(), default="en")
    owner_email = EmailField(_l("Owner's e-mail address"), render_kw=EMAIL_INPUT)
    owner_name = StringField(_l("Owner's name"), render_kw={"maxlength": 200})


class InviteOwnerForm(OwnerForm):
    # Its own ids: the logins page also holds TerminalForm (same field names).
    email = EmailField(_l("E-mail address"), id="owner-email", render_kw=EMAIL_INPUT)
    name = StringField(_l("Name"), id="owner-name", render_kw={"maxlength": 200})
    language = SelectField(_l("Language of the e-mail"), id="owner-language",
                           choices=_languages(), default="en")


class TerminalForm(OwnerForm):
    name = StringField(_l("Name of the terminal (e.g. Counter 1)"), id="terminal-name",
                       render_kw={"maxlength": 200})
    email = EmailField(_l("Login (an e-mail address)"), id="terminal-email",
                       render_kw=EMAIL_INPUT)
    password = PasswordField(_l("Password (at least 8 characters)"), id="terminal-password",
                             render_kw={"autocomplete": "new-password"})


class NewProgramForm(OwnerForm):
    program_type = RadioField(_l("Kind of program"), default="stamps",
                              choices=[SelectChoice("stamps", _l("Stamp card")),
                                       SelectChoice("points", _l("Points"))])
    name = StringField(_l("Program name"), render_kw={"maxlength": 120})


def invalid_fields(form) -> list[dict]:
    """Every error of a form, in the order of its fields (rows of a FieldList included), as
    {"id", "label", "message"} for the error summary; form-wide errors have no id."""
    problems = [{"id": None, "label": "", "message": str(message)}
                for message in getattr(form, "form_errors", [])]

    def visit(fields):
        for field in fields:
            if hasattr(field, "entries"):  # FieldList
                for entry in field.entries:
                    visit(entry.form if hasattr(entry, "form") else [entry])
            elif hasattr(field, "form") and field.type == "FormField":
                visit(field.form)
            else:
                problems.extend({"id": field.id, "label": str(field.label.text),
                                 "message": str(message)}
                                for message in field.errors if isinstance(message, str))

    visit(form)
    return problems
