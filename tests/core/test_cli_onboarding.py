"""`flask loyalty` commands for shops and people go through the same services as the screens."""

from loyalty_portal.models import Role
from loyalty_portal.services import api_key_service, program_service, vendor_service
from tests.factories import make_user


def run(runner, *args, input=None):
    return runner.invoke(args=["loyalty", *args], input=input)


def test_from_create_admin_to_a_shop_with_program_and_terminal(runner, db, smtp_server):
    assert run(runner, "create-admin", "admin@p.test", input="admin-pass\nadmin-pass\n"
               ).exit_code == 0

    result = run(runner, "create-vendor", "cafe", "Café", "--language", "de",
                 "--owner-email", "paul@cafe.test", "--owner-name", "Paul")
    assert result.exit_code == 0, result.output
    assert "invitation sent to paul@cafe.test" in result.output
    assert smtp_server.messages_to("paul@cafe.test")[0]["Content-Language"] == "de"

    assert run(runner, "invite-owner", "cafe", "anne@cafe.test").exit_code == 0
    assert len(smtp_server.messages_to("anne@cafe.test")) == 1

    result = run(runner, "create-program", "cafe", "stamps", "Coffee card")
    assert result.exit_code == 0, result.output
    vendor = vendor_service.get_vendor_by_slug("cafe")
    assert program_service.get_program(vendor.id).name == "Coffee card"

    result = run(runner, "create-terminal", "cafe", "till@cafe.test", "--name", "Till",
                 input="till-password\ntill-password\n")
    assert result.exit_code == 0, result.output
    assert vendor_service.authenticate("till@cafe.test", "till-password").role == Role.STAFF


def test_refusals_print_their_error_code_and_exit_1(runner, db):
    make_user(Role.OWNER, email="taken@shop.test")
    assert run(runner, "create-vendor", "shop", "Shop").exit_code == 0
    result = run(runner, "create-vendor", "shop", "Shop again")
    assert result.exit_code == 1 and "VENDOR_ALREADY_EXISTS" in result.output
    result = run(runner, "create-program", "shop", "stamps", "Card")
    result = run(runner, "create-program", "shop", "points", "Again")
    assert result.exit_code == 1 and "LOYALTY_PROGRAM_ALREADY_EXISTS" in result.output
    result = run(runner, "invite-owner", "shop", "taken@shop.test")
    assert result.exit_code == 1 and "USER_ALREADY_EXISTS" in result.output
    result = run(runner, "suspend-vendor", "nowhere")
    assert result.exit_code == 1 and "VENDOR_NOT_FOUND" in result.output


def test_suspend_and_resume(runner, db):
    run(runner, "create-vendor", "shop", "Shop")
    vendor = vendor_service.get_vendor_by_slug("shop")
    key = api_key_service.create_key(vendor.id, "Till").secret
    assert "suspended" in run(runner, "suspend-vendor", "shop").output
    db.session.expire_all()
    assert vendor_service.get_vendor_by_slug("shop").is_suspended
    assert run(runner, "resume-vendor", "shop").exit_code == 0
    db.session.expire_all()
    assert api_key_service.authenticate(key) is not None
