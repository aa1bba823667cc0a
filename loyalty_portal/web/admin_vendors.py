"""The platform admin's shops: create a shop and invite its owner, invite more owners, suspend
and resume a shop. Everything goes through vendor_service and account_service, like the JSON API
(/api/v1/admin/loyalty/vendors) and the `flask loyalty` commands."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth import roles_required
from ..models import Role
from ..services import account_service, vendor_service
from .onboarding_forms import InviteOwnerForm, VendorForm, submitted

bp = Blueprint("admin_vendors", __name__, url_prefix="/admin/vendors")


@bp.before_request
@roles_required(Role.ADMIN)
def admins_only():
    """The platform admin's screens; owners and staff get 403."""


@bp.route("/", methods=["GET", "POST"])
def vendors():
    form = VendorForm()
    status = 200
    if request.method == "POST":
        opened = submitted(form, vendor_service.open_shop, form.slug.data, form.name.data,
                           (form.timezone.data or "").strip(), form.currency.data,
                           form.language.data, form.owner_email.data, form.owner_name.data)
        if opened:
            vendor, owner = opened
            flash(_("%(shop)s is created. An invitation is on its way to %(email)s.",
                    shop=vendor.name, email=owner.email), "success")
            return redirect(url_for(".vendor", vendor_id=vendor.id), 303)
        status = 422
    return render_template("admin/vendors.html", form=form,
                           vendors=vendor_service.list_vendors()), status


def _vendor_page(vendor_id: int, form: InviteOwnerForm | None = None, status: int = 200):
    vendor = vendor_service.get_vendor(vendor_id)
    if form is None:
        form = InviteOwnerForm(formdata=None, language=vendor.default_locale)
    return render_template("admin/vendor.html", vendor=vendor, form=form,
                           logins=account_service.list_logins(vendor.id)), status


@bp.get("/<id:vendor_id>")
def vendor(vendor_id: int):
    return _vendor_page(vendor_id)


@bp.post("/<id:vendor_id>/owners")
def invite_owner(vendor_id: int):
    form = InviteOwnerForm()
    user = submitted(form, account_service.invite_owner, vendor_id, form.email.data,
                     form.name.data, form.language.data)
    if user is None:
        return _vendor_page(vendor_id, form, 422)
    flash(_("An invitation is on its way to %(email)s.", email=user.email), "success")
    return redirect(url_for(".vendor", vendor_id=vendor_id), 303)


@bp.post("/<id:vendor_id>/suspension")
def suspension(vendor_id: int):
    """suspended=1 suspends the shop, suspended=0 lifts the suspension."""
    suspended = request.form.get("suspended") == "1"
    vendor = vendor_service.set_vendor_suspended(vendor_id, suspended)
    flash(_("%(shop)s is suspended: its terminals and API keys stop working.", shop=vendor.name)
          if suspended else _("%(shop)s works again.", shop=vendor.name), "success")
    return redirect(url_for(".vendor", vendor_id=vendor_id), 303)
