"""The navigation bar of each role. Entries whose blueprint is not registered are left out, so a
screen appears in the bar as soon as its view exists (owner and admin screens add theirs here)."""

from flask import Flask, current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..i18n import SUPPORTED_LOCALES, current_language
from ..models import Role

NAVIGATION = {
    Role.ADMIN: [
        ("admin.overview", _l("Overview")),
        ("admin_vendors.vendors", _l("Shops")),
        ("admin.outbox_messages", _l("Deliveries")),
    ],
    Role.OWNER: [
        ("vendor.dashboard", _l("Dashboard")),
        ("vendor.program", _l("Program")),
        ("vendor.cards", _l("Cards")),
        ("vendor.staff", _l("Staff")),
        ("owner_setup.logins", _l("Logins")),
        ("vendor.statistics", _l("Statistics")),
        ("cashier.index", _l("Cashier")),
    ],
    Role.STAFF: [("cashier.index", _l("Cashier"))],
}

# Each language is named in itself, so someone who cannot read the current one still finds theirs.
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "de": "Deutsch", "lb": "Lëtzebuergesch"}


def navigation_items() -> list[dict]:
    if not current_user.is_authenticated:
        return []
    items = []
    for endpoint, label in NAVIGATION.get(current_user.role, []):
        if endpoint in current_app.view_functions:
            items.append({
                "url": url_for(endpoint),
                "label": label,
                "current": request.endpoint == endpoint,
            })
    return items


def language_choices() -> list[dict]:
    here = request.full_path.rstrip("?") if request else "/"
    return [
        {"code": code, "name": LANGUAGE_NAMES[code],
         "url": url_for("auth.set_language", code=code, next=here)}
        for code in SUPPORTED_LOCALES
    ]


def register_navigation(app: Flask) -> None:
    app.add_template_global(navigation_items)
    app.add_template_global(language_choices)

    @app.context_processor
    def inject_locale():
        return {"current_locale": current_language()}
