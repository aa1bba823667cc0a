"""The owner screens' forms. They only parse what was typed; the services check the rules, and a
service's ValidationError is shown next to the field it names (`show_error`)."""

import re
import uuid
from decimal import Decimal

from babel.numbers import get_currency_precision
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    ColorField,
    DateField,
    FieldList,
    FloatField,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
from wtforms.widgets import NumberInput

from ..errors import LoyaltyError, ValidationError
from ..services.transaction_service import MAX_ADJUSTMENT_DELTA

PIN_INPUT = {"inputmode": "numeric", "autocomplete": "off", "pattern": "[0-9]*", "maxlength": 8}
# "points_rewards[2].points_cost" → row 2, field points_cost
_REWARD_FIELD = re.compile(r"^points_rewards\[(\d+)\]\.(\w+)$")


class OwnerForm(FlaskForm):
    # A service's field name → this form's field name, where they differ.
    SERVICE_FIELDS: dict[str, str] = {}

    def show_error(self, error: LoyaltyError) -> None:
        """Put each problem of a service's ValidationError (one, or several at once: see
        ValidationError.all_of) next to the field it names, or above the form."""
        for problem in getattr(error, "problems", [error]):
            self.show_problem(problem)

    def show_problem(self, error: ValidationError) -> None:
        name = error.details.get("field") or ""
        field = self._fields.get(self.SERVICE_FIELDS.get(name, name))
        if field is None:
            self.form_errors.append(error.message)
        else:
            field.errors = [*field.errors, error.message]


class MoneyField(StringField):
    """An amount typed in the vendor's currency ("250", "250.00"), as minor units (250 → 25000);
    empty is None. Text that is no amount stays text, so the service refuses it."""

    def process_formdata(self, valuelist):
        from ..services.money import parse_amount  # one parser for amounts typed anywhere

        if not valuelist:
            return  # not sent: the saved value stays
        text = valuelist[0].strip()
        if not text:
            self.data = None
            return
        try:
            self.data = parse_amount(text, current_user.vendor.currency)
        except ValidationError:
            self.data = text

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if not isinstance(self.data, int):
            return ""
        precision = get_currency_precision(current_user.vendor.currency)
        return str(Decimal(self.data).scaleb(-precision))


class RewardForm(Form):
    """One row of a points program's rewards catalogue."""

    reward_id = StringField(_l("Short id (made from the name when left empty)"),
                            render_kw={"maxlength": 64, "autocapitalize": "none"})
    name = StringField(_l("Reward"), render_kw={"maxlength": 200})
    points_cost = IntegerField(_l("Points"), widget=NumberInput(min=1))
    active = BooleanField(_l("Offered"), default=True)

    def is_blank(self) -> bool:
        return not (self.reward_id.data or self.name.data or self.points_cost.raw_data
                    and self.points_cost.raw_data[0])


class ProgramForm(OwnerForm):
    program_type = RadioField(_l("Kind of program"),
                              choices=[SelectChoice("stamps", _l("Stamp card")),
                                       SelectChoice("points", _l("Points"))])
    name = StringField(_l("Program name"), render_kw={"maxlength": 120})
    description = TextAreaField(_l("Description for customers"), render_kw={"rows": 3})
    stamps_target = IntegerField(_l("Stamps for a reward"), widget=NumberInput(min=1, max=100))
    stamps_reward_description = StringField(_l("The reward"), render_kw={"maxlength": 200})
    points_per_currency_unit = IntegerField(_l("Points per unit of currency spent"),
                                            widget=NumberInput(min=0, max=1000))
    rewards = FieldList(FormField(RewardForm))
    cooldown_minutes = IntegerField(_l("Minutes between two stamps on one card"),
                                    widget=NumberInput(min=0, max=1440))
    max_daily_stamps = IntegerField(_l("Most stamps per card per day"),
                                    widget=NumberInput(min=1, max=100))
    require_staff_pin = BooleanField(_l("Ask for a staff PIN for every stamp, points or reward"))
    is_active = BooleanField(_l("Program active"))
    pin_max_failed_attempts = IntegerField(_l("Wrong PINs before a PIN is locked"),
                                           widget=NumberInput(min=1, max=20))
    pin_lockout_minutes = IntegerField(_l("Minutes a locked PIN stays locked"),
                                       widget=NumberInput(min=1, max=1440))
    max_stamps_per_purchase = IntegerField(_l("Most stamps for one purchase"),
                                           widget=NumberInput(min=1, max=10))
    max_purchase_amount_cents = MoneyField(_l("Largest purchase amount a cashier may enter"),
                                           render_kw={"inputmode": "decimal"})
    max_daily_points = IntegerField(_l("Most points per card per day"),
                                    widget=NumberInput(min=1, max=1_000_000))
    confirm_purchase_above_cents = MoneyField(
        _l("Ask the cashier to confirm the points above this amount"),
        render_kw={"inputmode": "decimal"})
    counter_undo_minutes = IntegerField(_l("Minutes a cashier may undo their last action"),
                                        widget=NumberInput(min=0, max=60))
    card_background_color = ColorField(_l("Card colour"))
    card_text_color = ColorField(_l("Text colour"))
    logo_url = StringField(_l("Logo address (https://…)"), render_kw={"maxlength": 500})
    apple_wallet_enabled = BooleanField(_l("Offer the card as an Apple Wallet pass"))
    shop_latitude = FloatField(_l("Shop latitude"), validators=[Optional()],
                               widget=NumberInput(step="any", min=-90, max=90))
    shop_longitude = FloatField(_l("Shop longitude"), validators=[Optional()],
                                widget=NumberInput(step="any", min=-180, max=180))
    google_wallet_enabled = BooleanField(_l("Offer the card in Google Wallet"))

    SERVICE_FIELDS = {"points_rewards": "rewards"}
    MONEY_FIELDS = ("max_purchase_amount_cents", "confirm_purchase_above_cents")
    SETTINGS = (
        "program_type", "name", "description", "stamps_target", "stamps_reward_description",
        "points_per_currency_unit", "cooldown_minutes", "max_daily_stamps", "require_staff_pin",
        "pin_max_failed_attempts", "pin_lockout_minutes", "card_background_color",
        "card_text_color", "logo_url", "is_active", "max_stamps_per_purchase",
        "max_purchase_amount_cents", "max_daily_points", "confirm_purchase_above_cents",
        "counter_undo_minutes", "apple_wallet_enabled", "shop_latitude", "shop_longitude",
        "google_wallet_enabled",
    )

    @classmethod
    def data_of(cls, program) -> dict:
        """The form's initial values from a saved program."""
        data = {name: getattr(program, name) for name in cls.SETTINGS}
        data["program_type"] = str(program.program_type)
        data["rewards"] = [
            {"reward_id": r["id"], "name": r["name"], "points_cost": r["points_cost"],
             "active": r.get("active", True)}
            for r in program.points_rewards or []
        ]
        return data

    def filled_rewards(self) -> list[RewardForm]:
        return [entry.form for entry in self.rewards if not entry.form.is_blank()]

    def changes(self) -> dict:
        """Everything the owner can set, as `program_service.update_program` takes it."""
        changes = {name: self[name].data for name in self.SETTINGS}
        for name in ("shop_latitude", "shop_longitude"):
            typed = (self[name].raw_data or [""])[0].strip()
            if typed and self[name].data is None:
                changes[name] = typed  # not a number: the service says so beside the field
        changes["points_rewards"] = [
            {"id": row.reward_id.data or "", "name": row.name.data or "",
             "points_cost": row.points_cost.data, "active": row.active.data}
            for row in self.filled_rewards()
        ]
        return changes

    def show_problem(self, error: ValidationError) -> None:
        if error.details.get("field") in self.MONEY_FIELDS:
            # The service counts in cents; the owner typed an amount.
            error = ValidationError(_l("Enter an amount like 250.00, or leave it empty."),
                                    field=error.details["field"])
        match = _REWARD_FIELD.fullmatch(error.details.get("field") or "")
        rows = self.filled_rewards()
        if match and int(match.group(1)) < len(rows):
            row = rows[int(match.group(1))]
            field = row["reward_id" if match.group(2) == "id" else match.group(2)]
            field.errors = [*field.errors, error.message]
            return
        super().show_problem(error)


def new_reward_row(index: int) -> RewardForm:
    """An empty catalogue row named like FieldList's rows (`rewards-<index>-name`)."""
    return RewardForm(prefix=f"rewards-{index}-")


class StaffPinForm(OwnerForm):
    name = StringField(_l("Staff member's name"), render_kw={"maxlength": 100})
    pin = PasswordField(_l("PIN (4 to 8 digits)"), render_kw=PIN_INPUT)


class RenamePinForm(OwnerForm):
    name = StringField(_l("Staff member's name"), render_kw={"maxlength": 100})


class ChangePinForm(OwnerForm):
    pin = PasswordField(_l("New PIN (4 to 8 digits)"), render_kw=PIN_INPUT)


class VoidForm(OwnerForm):
    reason = TextAreaField(_l("Reason"), render_kw={"rows": 3, "maxlength": 500, "required": True})


class AdjustForm(OwnerForm):
    """A card's balance corrected by hand, in stamps or points after the program's kind."""

    SERVICE_FIELDS = {"stamps_delta": "delta", "points_delta": "delta"}

    delta = IntegerField(_l("Add or remove"), default=0,
                         widget=NumberInput(min=-MAX_ADJUSTMENT_DELTA, max=MAX_ADJUSTMENT_DELTA))
    reason = TextAreaField(_l("Reason"), render_kw={"rows": 2, "maxlength": 500, "required": True})
    # One key per form shown: submitting it twice adjusts once.
    idempotency_key = HiddenField(default=lambda: str(uuid.uuid4()))

    def deltas(self, program) -> dict:
        """The change as `transaction_service.adjust_balance` takes it."""
        return {"stamps_delta" if program.is_stamps else "points_delta": self.delta.data}


class ApiKeyForm(OwnerForm):
    name = StringField(_l("Name of the key (e.g. the till it is for)"),
                       render_kw={"maxlength": 100})


class ExportForm(OwnerForm):
    class Meta:
        csrf = False  # a download link (GET) that changes nothing

    SERVICE_FIELDS = {"from": "date_from", "to": "date_to"}

    date_from = DateField(_l("From"))
    date_to = DateField(_l("To (inclusive)"))
    flavour = RadioField(_l("File for"), default="excel", choices=[
        SelectChoice("excel", _l("Excel and other spreadsheets (semicolons, local dates)")),
        SelectChoice("plain", _l("Other programs (plain CSV: commas, ISO dates)")),
    ])
