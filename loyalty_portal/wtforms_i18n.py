"""WTForms' own messages ("This field is required.", ...) in every language we offer.

Flask-WTF translates them with the catalogues that ship with WTForms, which have French and
German but no Luxembourgish. The messages our forms can show are listed here, so they are in our
own catalogues too; `FallbackTranslations` asks WTForms' catalogue first and ours when it has
nothing, and `install()` hands it to Flask-WTF (create_app calls it)."""

import flask_wtf.form
from flask_babel import get_translations, gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf.i18n import Translations

# Only listed so that `make translations` extracts them; WTForms itself asks for these strings.
MESSAGES = (
    _l("This field is required."),
    _l("Field must be equal to %(other_name)s."),
    _l("Field must be between %(min)d and %(max)d characters long."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Invalid email address."),
    _l("Not a valid choice."),
    _l("Not a valid date value."),
    _l("Not a valid integer value."),
    _l("Invalid input."),
)



def _plurals_for_extraction() -> None:  # never called: pybabel finds these by reading the code
    ngettext("Field must be at least %(min)d character long.",
             "Field must be at least %(min)d characters long.", 1)
    ngettext("Field cannot be longer than %(max)d character.",
             "Field cannot be longer than %(max)d characters.", 1)


class FallbackTranslations(Translations):
    """WTForms' catalogue for the request's language, else ours (Luxembourgish)."""

    def gettext(self, string):
        translated = super().gettext(string)
        return translated if translated != string else gettext(string)

    def ngettext(self, singular, plural, n):
        translated = super().ngettext(singular, plural, n)
        if translated not in (singular, plural):
            return translated
        # Unformatted: WTForms puts the numbers in after translating.
        return get_translations().ungettext(singular, plural, n)


def install() -> None:
    flask_wtf.form.translations = FallbackTranslations()
