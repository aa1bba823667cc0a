"""Owner screens: program setup with a live card preview, staff PINs, cards and their history,
voids and balance adjustments, statistics, CSV export, API keys and the enrolment poster. An owner
sees only their own vendor (current_user.vendor_id): every service call is scoped by it, so another
vendor's id is simply not found (404)."""


from babel.numbers import get_currency_symbol
from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import roles_required
from ..clock import utcnow
from ..errors import ValidationError
from ..i18n import current_language
from ..input_guard import bounded_int
from ..models import Role
from ..services import (
    api_key_service,
    apple_wallet_service,
    card_look,
    card_service,
    export_service,
    google_wallet_service,
    pin_service,
    poster_service,
    program_service,
    statistics_service,
    transaction_service,
)
from ..services.ledger import Actor
from .errors import is_htmx
from .navigation import LANGUAGE_NAMES
from .vendor_forms import (
    AdjustForm,
    ApiKeyForm,
    ChangePinForm,
    ExportForm,
    ProgramForm,
    RenamePinForm,
    StaffPinForm,
    VoidForm,
    new_reward_row,
)

bp = Blueprint("vendor", __name__, url_prefix="/vendor")

CARDS_PER_PAGE = 25
HISTORY_PAGE = 50
STATISTICS_DAYS = 84  # twelve whole weeks for the weekly chart; the daily charts show the last 30


@bp.before_request
@roles_required(Role.OWNER)
def owners_only():
    """Every screen here is the owner's (a staff terminal gets 403, nobody signed in the login).
    An owner whose shop has no program yet creates it first."""
    if program_service.find_program(current_user.vendor_id) is None:
        return redirect(url_for("owner_setup.new_program"))


def _vendor_id() -> int:
    return current_user.vendor_id


def wants_fragment() -> bool:
    """An htmx swap wants the fragment; htmx restoring a page from history wants all of it."""
    return is_htmx() and not request.headers.get("HX-History-Restore-Request")


def _page(template: str, fragment: str | None = None, status: int = 200, **context):
    """The fragment for an htmx request, the whole page otherwise."""
    name = fragment if fragment and wants_fragment() else template
    return render_template(f"vendor/{name}.html", **context), status


def _submitted(form, service_call, *args, **kwargs):
    """Run a form's one service call. A ValidationError is shown next to the field it names and
    gives None; every other refusal goes to the app's error handler."""
    try:
        return service_call(*args, **kwargs)
    except ValidationError as error:
        form.show_error(error)
        return None


@bp.context_processor
def moment_and_currency():
    """"Now" for lock states, and the vendor's currency as people write it (€, not EUR)."""
    vendor = getattr(current_user, "vendor", None)  # None on a 403 page for another role
    if vendor is None:
        return {}
    return {"now": utcnow(),
            "currency_symbol": get_currency_symbol(vendor.currency, str(get_locale()))}


def _done(message: str, endpoint: str, **values):
    flash(message, "success")
    return redirect(url_for(endpoint, **values), 303)


def _actor() -> Actor:
    return Actor(user_id=current_user.id, client_ip=request.remote_addr,
                 user_agent=(request.user_agent.string or "")[:300] or None)


# Dashboard ----------------------------------------------------------------------------------------


@bp.get("/")
def dashboard():
    statistics = statistics_service.vendor_statistics(_vendor_id(), days=30)
    return _page("dashboard", statistics=statistics,
                 program=program_service.get_program(_vendor_id()))


# Program setup ------------------------------------------------------------------------------------


@bp.route("/program", methods=["GET", "POST"])
def program():
    saved = program_service.get_program(_vendor_id())
    form = ProgramForm(data=ProgramForm.data_of(saved))
    status = 200
    if request.method == "POST":
        if _submitted(form, program_service.update_program, _vendor_id(), **form.changes()):
            return _done(_("The program is saved."), ".program")
        status = 422
    look = card_look.preview_card_look(_vendor_id(), **form.changes())
    return _page("program", form=form, look=look, status=status,
                 apple_wallet=apple_wallet_service.is_configured(),
                 google_wallet_configured=google_wallet_service.is_configured())


@bp.post("/program/preview")
def program_preview():
    """The card as it would look with the form's unsaved values (htmx, on every input)."""
    form = ProgramForm()
    look = card_look.preview_card_look(_vendor_id(), **form.changes())
    return _page("program", "_card_preview", form=form, look=look,
                 apple_wallet=apple_wallet_service.is_configured(),
                 google_wallet_configured=google_wallet_service.is_configured())


@bp.get("/program/rewards/row")
def reward_row():
    """One more empty row for the rewards catalogue (htmx appends it)."""
    index = request.args.get("index", 0, type=bounded_int(0, 50))
    return render_template("vendor/_reward_row.html", row=new_reward_row(index), index=index,
                           added=True)


@bp.get("/program/rewards/removed")
def reward_row_removed():
    """htmx replaces a removed row with this nothing; the catalogue is saved with the form."""
    return ""


# Staff PINs ---------------------------------------------------------------------------------------


@bp.route("/staff", methods=["GET", "POST"])
def staff():
    form = StaffPinForm()
    created, status = None, 200
    if request.method == "POST":
        created = _submitted(form, pin_service.create_pin, _vendor_id(), form.name.data,
                             form.pin.data)
        if created and not is_htmx():
            return _done(_("%(name)s can now use their PIN.", name=created.name), ".staff")
        if created:
            form = StaffPinForm(formdata=None)
        else:
            status = 422
    pins = pin_service.list_pins(_vendor_id(), include_inactive=True)
    return _page("staff", "_staff", status=status, form=form, pins=pins, created=created,
                 lockouts=pin_service.list_lockouts(_vendor_id()))


@bp.get("/staff/<id:staff_pin_id>")
def staff_pin(staff_pin_id: int):
    staff_pin = pin_service.get_pin(_vendor_id(), staff_pin_id)
    return _page("staff_pin", staff_pin=staff_pin, rename_form=RenamePinForm(obj=staff_pin),
                 pin_form=ChangePinForm())


@bp.post("/staff/<id:staff_pin_id>/name")
def rename_staff_pin(staff_pin_id: int):
    form = RenamePinForm()
    if _submitted(form, pin_service.rename_pin, _vendor_id(), staff_pin_id, form.name.data):
        return _done(_("The name is changed."), ".staff_pin", staff_pin_id=staff_pin_id)
    staff_pin = pin_service.get_pin(_vendor_id(), staff_pin_id)
    return _page("staff_pin", status=422, staff_pin=staff_pin, rename_form=form,
                 pin_form=ChangePinForm(formdata=None))


@bp.post("/staff/<id:staff_pin_id>/pin")
def change_staff_pin(staff_pin_id: int):
    form = ChangePinForm()
    if _submitted(form, pin_service.change_pin, _vendor_id(), staff_pin_id, form.pin.data):
        return _done(_("The new PIN works from now on."), ".staff_pin", staff_pin_id=staff_pin_id)
    staff_pin = pin_service.get_pin(_vendor_id(), staff_pin_id)
    return _page("staff_pin", status=422, staff_pin=staff_pin,
                 rename_form=RenamePinForm(formdata=None, obj=staff_pin), pin_form=form)


def _staff_row(staff_pin, message: str):
    """htmx swaps the staff member's row in the list; without htmx, back to the list."""
    if is_htmx():
        return render_template("vendor/_staff_row.html", staff_pin=staff_pin)
    return _done(message, ".staff")


@bp.post("/staff/<id:staff_pin_id>/unlock")
def unlock_staff_pin(staff_pin_id: int):
    staff_pin = pin_service.unlock_pin(_vendor_id(), staff_pin_id)
    return _staff_row(staff_pin, _("%(name)s's PIN is unlocked.", name=staff_pin.name))


@bp.post("/staff/lockouts/<id:throttle_id>/unlock")
def unlock_lockout(throttle_id: int):
    """Lift one lock at one terminal (a PIN there, or every PIN there)."""
    pin_service.unlock_terminal(_vendor_id(), throttle_id)
    return _done(_("The lock is lifted."), ".staff")


@bp.post("/staff/<id:staff_pin_id>/deactivate")
def deactivate_staff_pin(staff_pin_id: int):
    staff_pin = pin_service.deactivate_pin(_vendor_id(), staff_pin_id)
    return _staff_row(staff_pin, _("%(name)s's PIN no longer works.", name=staff_pin.name))


# Cards --------------------------------------------------------------------------------------------


@bp.get("/cards")
def cards():
    query = request.args.get("q", "").strip()[:200]
    page = request.args.get("page", 1, type=bounded_int())
    found, total = card_service.search_cards(
        _vendor_id(), query, limit=CARDS_PER_PAGE, offset=(page - 1) * CARDS_PER_PAGE
    )
    pages = max(1, -(-total // CARDS_PER_PAGE))
    return _page("cards", "_cards", cards=found, total=total, query=query, page=page, pages=pages,
                 program=program_service.get_program(_vendor_id()))


def _card_page(card_id: int, fragment: str | None = None, before: int | None = None,
               status: int = 200, **context):
    page = transaction_service.card_page(_vendor_id(), card_id, HISTORY_PAGE, before)
    context.setdefault("adjust_form", AdjustForm())
    return _page("card", fragment, status=status, page=page, card=page.card,
                 program=page.card.program, currency=current_user.vendor.currency, **context)


@bp.get("/cards/<id:card_id>")
def card(card_id: int):
    before = request.args.get("before", type=bounded_int())
    return _card_page(card_id, "_history_rows" if before else None, before)


@bp.post("/cards/<id:card_id>/active")
def card_active(card_id: int):
    """Block (active=0) or unblock (active=1) a card."""
    active = request.form.get("active") == "1"
    card = card_service.set_card_active(_vendor_id(), card_id, active)
    if is_htmx():
        return render_template("vendor/_card_status.html", card=card)
    message = _("The card works again.") if active else _("The card is blocked.")
    return _done(message, ".card", card_id=card_id)


@bp.post("/cards/<id:card_id>/adjust")
def adjust(card_id: int):
    """Correct a card's balance; htmx swaps the card's balance and history in place."""
    form = AdjustForm()
    adjusted = _submitted(form, transaction_service.adjust_balance, _vendor_id(), card_id,
                          **form.deltas(program_service.get_program(_vendor_id())),
                          reason=form.reason.data, actor=_actor(),
                          idempotency_key=form.idempotency_key.data or None)
    if adjusted and not is_htmx():
        return _done(_("The balance is adjusted."), ".card", card_id=card_id)
    if adjusted:
        form = AdjustForm(formdata=None)
    return _card_page(card_id, "_card_detail", status=200 if adjusted else 422,
                      adjust_form=form, adjusted=adjusted)


@bp.route("/transactions/<id:transaction_id>/void", methods=["GET", "POST"])
def void(transaction_id: int):
    transaction = transaction_service.get_transaction(_vendor_id(), transaction_id)
    form = VoidForm()
    status = 200
    if request.method == "POST":
        if _submitted(form, transaction_service.void_transaction, _vendor_id(), transaction_id,
                      form.reason.data, actor=_actor()):
            return _done(_("The transaction is voided."), ".card", card_id=transaction.card_id)
        status = 422
    return _page("void", status=status, form=form, transaction=transaction,
                 currency=current_user.vendor.currency)


# Statistics and export ----------------------------------------------------------------------------


@bp.get("/statistics")
def statistics():
    statistics = statistics_service.vendor_statistics(_vendor_id(), days=STATISTICS_DAYS)
    return _page("statistics", statistics=statistics,
                 weeks=statistics_service.new_cards_per_week(statistics.daily),
                 program=program_service.get_program(_vendor_id()))


@bp.get("/export")
def export():
    """The export form; with both dates, the CSV file itself."""
    form = ExportForm(request.args)
    vendor = current_user.vendor
    presets = export_service.preset_ranges(vendor, utcnow().astimezone(vendor.zone).date())
    if not request.args or set(request.args) == {"flavour"}:
        return _page("export", form=form, presets=presets)
    for field in (form.date_from, form.date_to):
        if field.data is None:
            field.errors = [_("Enter a date.")]
    if form.date_from.data and form.date_to.data:
        # A link without `flavour` (older bookmarks, scripts) gets the plain CSV it always had.
        flavour = request.args.get("flavour")
        flavour = flavour if flavour in ("excel", "plain") else "plain"
        csv_text = _submitted(form, export_service.transactions_csv, _vendor_id(),
                              form.date_from.data, form.date_to.data, flavour, current_language())
        if csv_text is not None:
            filename = f"transactions-{form.date_from.data}-{form.date_to.data}.csv"
            return Response(csv_text, mimetype="text/csv",
                            headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    return _page("export", status=422, form=form, presets=presets)


# API keys -----------------------------------------------------------------------------------------


@bp.route("/api-keys", methods=["GET", "POST"])
def api_keys():
    form = ApiKeyForm()
    created, status = None, 200
    if request.method == "POST":
        created = _submitted(form, api_key_service.create_key, _vendor_id(), form.name.data,
                             current_user.id)
        if created:
            form = ApiKeyForm(formdata=None)
        else:
            status = 422
    keys = api_key_service.list_keys(_vendor_id())
    return _page("api_keys", "_api_keys", status=status, form=form, keys=keys, created=created)


@bp.post("/api-keys/<id:api_key_id>/revoke")
def revoke_api_key(api_key_id: int):
    api_key_service.revoke_key(_vendor_id(), api_key_id)
    if is_htmx():
        keys = api_key_service.list_keys(_vendor_id())
        return render_template("vendor/_api_keys.html", form=ApiKeyForm(), keys=keys, created=None)
    return _done(_("The key is revoked."), ".api_keys")


# Enrolment poster ---------------------------------------------------------------------------------


def _poster_pages():
    """The program and its poster in the languages picked on the poster page (checkboxes)."""
    program = program_service.get_program(_vendor_id())
    locales = poster_service.chosen_locales(request.args.getlist("languages"),
                                            current_language())
    return program, poster_service.poster_pages(program, locales)


@bp.get("/poster")
def poster():
    program, pages = _poster_pages()
    return _page("poster", program=program, pages=pages,
                 picked=[page.locale for page in pages], language_names=LANGUAGE_NAMES)


@bp.get("/poster.pdf")
def poster_pdf():
    program, pages = _poster_pages()
    return _download(poster_service.poster_pdf(program, pages), "application/pdf", "pdf")


@bp.get("/poster.png")
def poster_png():
    program, pages = _poster_pages()
    return _download(poster_service.poster_png(program, pages), "image/png", "png")


def _download(body: bytes, mimetype: str, extension: str) -> Response:
    name = f"poster-{current_user.vendor.slug}.{extension}"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "private, no-store"})


@bp.get("/poster/qr.svg")
def poster_qr():
    """The join link in the language asked for (`language`, the vendor's otherwise)."""
    program = program_service.get_program(_vendor_id())
    locale = poster_service.chosen_locales(request.args.getlist("language"),
                                           program.vendor.default_locale)[0]
    url = poster_service.join_url(program, locale)
    with force_locale(locale):
        title = _("QR code to join: %(url)s", url=url)
    return Response(poster_service.qr_svg(url, title), mimetype="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=300"})
