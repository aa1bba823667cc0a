"""The .pkpass: Apple's format to the letter, a signature openssl verifies against the test CA,
and what the pass shows for stamp and points cards."""

import hashlib
import json
import subprocess
from datetime import timedelta

from PIL import Image

from loyalty_portal.services import (
    apple_wallet_service,
    card_service,
    points_service,
    program_service,
)
from loyalty_portal.services.ledger import Actor
from loyalty_portal.services.stamp_service import add_stamp
from tests.api.helpers import P, V, assert_error, make_shop
from tests.factories import make_card
from tests.wallets.apple_pass_format import parse_pass_strings, pass_problems
from tests.wallets.conftest import unzip

CONTENT_TYPE = "application/vnd.apple.pkpass"


def download(client, card):
    response = client.get(f"{P}/cards/{card.public_token}/wallet/apple")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def pass_files(client, card) -> dict[str, bytes]:
    return unzip(download(client, card).data)


def stamp(shop, times=1):
    for _ in range(times):
        add_stamp(shop.vendor.id, shop.card.id, actor=Actor(staff_pin_id=shop.pin.id, pin="4827"))


def openssl_verify(tool: str, directory, ca_file: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["openssl", tool, "-verify", "-binary", "-inform", "DER", "-in", "signature",
         "-content", "manifest.json", "-CAfile", ca_file, "-out", "/dev/null"],
        cwd=directory, capture_output=True, text=True,
    )


def test_the_signature_verifies_with_openssl_and_breaks_when_the_manifest_changes(
    client, apple_shop, apple_certificates, tmp_path
):
    files = pass_files(client, apple_shop.card)
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    for tool in ("smime", "cms"):
        result = openssl_verify(tool, tmp_path, apple_certificates.ca_file)
        assert result.returncode == 0, result.stderr
        assert "Verification successful" in result.stderr

    structure = subprocess.run(
        ["openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", "signature"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout
    assert "signingTime" in structure
    assert "eContent: <ABSENT>" in structure  # detached
    certificates = subprocess.run(
        ["openssl", "pkcs7", "-inform", "DER", "-in", "signature", "-print_certs", "-noout"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout
    assert "WWDR" in certificates and "Pass Type ID: pass.test.loyalty-portal" in certificates

    manifest = json.loads(files["manifest.json"])
    manifest["pass.json"] = "0" * 40
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    for tool in ("smime", "cms"):
        assert openssl_verify(tool, tmp_path, apple_certificates.ca_file).returncode != 0


def test_the_signature_does_not_verify_against_another_ca(client, apple_shop, tmp_path):
    from loyalty_portal.services.apple_certificates import make_dev_certificates

    for name, data in pass_files(client, apple_shop.card).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    other = make_dev_certificates()
    (tmp_path / "other-ca.pem").write_bytes(other.root.public_bytes(encoding=_pem()))
    assert openssl_verify("cms", tmp_path, str(tmp_path / "other-ca.pem")).returncode != 0


def _pem():
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.PEM


def test_the_manifest_names_every_file_with_its_sha1(client, apple_shop):
    files = pass_files(client, apple_shop.card)
    manifest = json.loads(files["manifest.json"])
    assert set(manifest) == set(files) - {"manifest.json", "signature"}
    for name, digest in manifest.items():
        assert hashlib.sha1(files[name]).hexdigest() == digest, name
    assert {"pass.json", "icon.png", "icon@2x.png", "icon@3x.png", "logo.png", "logo@2x.png",
            "logo@3x.png"} <= set(files)
    assert {f"{locale}.lproj/pass.strings" for locale in ("en", "fr", "de", "lb")} <= set(files)


def test_pass_json_follows_apples_format(client, apple_shop, apple_certificates):
    content = json.loads(pass_files(client, apple_shop.card)["pass.json"])
    assert pass_problems(content) == []
    card = apple_shop.card
    assert content["passTypeIdentifier"] == "pass.test.loyalty-portal"
    assert content["teamIdentifier"] == "TESTTEAM01"
    assert content["serialNumber"] == card.apple_serial_number
    assert content["authenticationToken"] == card.apple_auth_token
    assert len(content["authenticationToken"]) >= 16
    assert content["webServiceURL"] == "http://127.0.0.1:5000/api/v1/loyalty/apple"
    assert content["organizationName"] == apple_shop.vendor.name
    assert content["backgroundColor"] == "rgb(31, 58, 95)"  # the default #1F3A5F
    assert content["foregroundColor"] == "rgb(255, 255, 255)"


def test_the_format_checks_catch_what_wallet_refuses():
    """The checks themselves can fail: each broken pass is reported."""
    good = {"formatVersion": 1, "description": "d", "organizationName": "o",
            "passTypeIdentifier": "pass.x", "serialNumber": "1", "teamIdentifier": "T",
            "storeCard": {"primaryFields": [{"key": "a", "value": 1}]}}
    assert pass_problems(good) == []
    broken = [
        {**good, "formatVersion": 2},
        {k: v for k, v in good.items() if k != "serialNumber"},
        {**good, "storeCard": {"primaryFields": [{"key": "a", "value": 1}],
                               "backFields": [{"key": "a", "value": 2}]}},
        {**good, "storeCard": {"primaryFields": [{"key": "a", "value": 1,
                                                  "changeMessage": "Now"}]}},
        {**good, "backgroundColor": "#FFFFFF"},
        {**good, "backgroundColor": "rgb(300, 0, 0)"},
        {**good, "barcodes": [{"format": "QR", "message": "x", "messageEncoding": "iso-8859-1"}]},
        {**good, "webServiceURL": "https://x.test"},
        {**good, "webServiceURL": "https://x.test/v1", "authenticationToken": "a" * 16},
        {**good, "authenticationToken": "short", "webServiceURL": "https://x.test"},
        {**good, "generic": {}},
        {**good, "colour": "red"},
        {**good, "locations": [{"latitude": "49.6"}]},
    ]
    for content in broken:
        assert pass_problems(content), content


def test_a_stamp_card_shows_the_balance_with_lock_screen_messages(client, apple_shop):
    stamp(apple_shop, 3)
    content = json.loads(pass_files(client, apple_shop.card)["pass.json"])
    fields = _fields(content)
    assert fields["balance"]["value"] == "3 / 10"
    assert fields["balance"]["changeMessage"] == "Stamps: %@"
    assert fields["stamps_to_go"]["value"] == 7
    assert "%@" in fields["stamps_to_go"]["changeMessage"]
    assert fields["reward"]["value"] == "A free coffee"
    assert fields["member"]["value"] == apple_shop.card.customer.name
    assert fields["card_number"]["value"] == card_service.format_card_number(
        apple_shop.card.card_number
    )


def test_a_points_card_shows_the_next_reward(client, db, frozen_time, apple_wallet):
    shop = make_shop("points", points_per_currency_unit=1)
    program_service.update_program(shop.vendor.id, apple_wallet_enabled=True)
    points_service.earn_points(shop.vendor.id, shop.card.id, 1200,
                               actor=Actor(staff_pin_id=shop.pin.id, pin="4827"))
    fields = _fields(json.loads(pass_files(client, shop.card)["pass.json"]))
    assert fields["balance"]["value"] == 12 and fields["balance"]["changeMessage"] == "Points: %@"
    # 12 points buy the coffee (10) and not yet the cake (50).
    assert fields["next_reward"]["value"] == "Coffee"
    assert fields["points_needed"]["value"] == 0
    assert apple_wallet_service.next_reward(
        [{"name": "Coffee", "points_cost": 10}, {"name": "Cake", "points_cost": 50}], 4
    ) == ("Coffee", 6)
    assert apple_wallet_service.next_reward([], 4) == (None, 0)
    for field in fields.values():
        if field["key"] in ("balance", "next_reward", "points_needed"):
            assert "%@" in field["changeMessage"]


def _fields(content: dict) -> dict[str, dict]:
    fields = {}
    for name in ("headerFields", "primaryFields", "secondaryFields", "auxiliaryFields",
                 "backFields"):
        for field in content["storeCard"].get(name, []):
            fields[field["key"]] = field
    return fields


def test_the_barcode_is_what_the_cashier_scans(client, apple_shop):
    content = json.loads(pass_files(client, apple_shop.card)["pass.json"])
    [barcode] = content["barcodes"]
    assert barcode["format"] == "PKBarcodeFormatQR"
    assert barcode["messageEncoding"] == "iso-8859-1"
    assert barcode["altText"] == card_service.format_card_number(apple_shop.card.card_number)
    found = card_service.lookup_card(apple_shop.vendor.id, barcode["message"])
    assert found.id == apple_shop.card.id
    # The card page's QR code carries the same text.
    assert barcode["message"] == apple_shop.card.public_token


def test_images_at_three_scales(client, apple_shop):
    files = pass_files(client, apple_shop.card)
    for scale, suffix in ((1, ""), (2, "@2x"), (3, "@3x")):
        icon = Image.open(__import__("io").BytesIO(files[f"icon{suffix}.png"]))
        logo = Image.open(__import__("io").BytesIO(files[f"logo{suffix}.png"]))
        assert icon.format == logo.format == "PNG"
        assert icon.size == (29 * scale, 29 * scale)
        assert logo.size[0] <= 160 * scale and logo.size[1] <= 50 * scale
    icon = Image.open(__import__("io").BytesIO(files["icon.png"])).convert("RGB")
    assert icon.getpixel((1, 1)) == (31, 58, 95)  # the card colour


def test_pass_strings_translate_every_label_and_message(client, apple_shop):
    files = pass_files(client, apple_shop.card)
    content = json.loads(files["pass.json"])
    used = set()
    for field in _fields(content).values():
        used |= {field.get("label"), field.get("changeMessage")} - {None}
    for locale in ("en", "fr", "de", "lb"):
        strings = parse_pass_strings(files[f"{locale}.lproj/pass.strings"])
        assert used <= set(strings), (locale, used - set(strings))
        for key, text in strings.items():
            assert text and ("%@" in text) == ("%@" in key), (locale, key, text)
    french = parse_pass_strings(files["fr.lproj/pass.strings"])
    assert french["Stamps"] != "Stamps"


def test_locations_only_when_the_shop_has_a_position(client, apple_shop):
    assert "locations" not in json.loads(pass_files(client, apple_shop.card)["pass.json"])
    program_service.update_program(apple_shop.vendor.id, shop_latitude=49.6116,
                                   shop_longitude=6.1319)
    content = json.loads(pass_files(client, apple_shop.card)["pass.json"])
    assert pass_problems(content) == []
    [location] = content["locations"]
    assert (location["latitude"], location["longitude"]) == (49.6116, 6.1319)
    assert location["relevantText"]


def test_served_as_a_pkpass_with_a_stable_last_modified(client, apple_shop, frozen_time):
    frozen_time.advance(minutes=1)
    first = download(client, apple_shop.card)
    assert first.headers["Content-Type"] == CONTENT_TYPE
    assert first.headers["Content-Disposition"] == (
        f'attachment; filename="{apple_shop.vendor.slug}-loyalty-card.pkpass"'
    )
    frozen_time.advance(minutes=1)
    second = download(client, apple_shop.card)
    assert first.headers["Last-Modified"] == second.headers["Last-Modified"]
    assert second.last_modified == apple_shop.program.updated_at.replace(microsecond=0)

    stamp(apple_shop)
    frozen_time.advance(seconds=2)
    third = download(client, apple_shop.card)
    assert third.last_modified == (frozen_time.now - timedelta(seconds=2)).replace(microsecond=0)


def test_serial_and_token_never_change(client, apple_shop):
    before = json.loads(pass_files(client, apple_shop.card)["pass.json"])
    stamp(apple_shop)
    after = json.loads(pass_files(client, apple_shop.card)["pass.json"])
    assert (before["serialNumber"], before["authenticationToken"]) == (
        after["serialNumber"], after["authenticationToken"]
    )
    other = make_card(apple_shop.program)
    assert other.apple_serial_number != apple_shop.card.apple_serial_number
    assert other.apple_auth_token != apple_shop.card.apple_auth_token


def test_a_blocked_card_gets_a_voided_pass(client, apple_shop):
    card_service.set_card_active(apple_shop.vendor.id, apple_shop.card.id, False)
    content = json.loads(pass_files(client, apple_shop.card)["pass.json"])
    assert content["voided"] is True and pass_problems(content) == []


def test_no_pass_without_certificates_or_when_the_program_has_none(client, app, db, frozen_time):
    shop = make_shop("stamps")
    url = f"{P}/cards/{shop.card.public_token}/wallet/apple"
    assert_error(client.get(url), 409, "APPLE_WALLET_NOT_CONFIGURED")
    program_service.update_program(shop.vendor.id, apple_wallet_enabled=True)
    assert_error(client.get(url), 409, "APPLE_WALLET_NOT_CONFIGURED")
    assert_error(client.get(f"{P}/cards/nope/wallet/apple"), 404, "LOYALTY_CARD_NOT_FOUND")


def test_the_program_must_switch_the_pass_on(client, db, frozen_time, apple_wallet):
    shop = make_shop("stamps")
    url = f"{P}/cards/{shop.card.public_token}/wallet/apple"
    assert_error(client.get(url), 409, "APPLE_WALLET_NOT_CONFIGURED")
    assert client.get(f"{P}/cards/{shop.card.public_token}/wallet").get_json()[
        "apple_wallet_url"
    ] is None
    assert V  # the vendor API is where owners switch it on (apple_wallet_enabled)


def test_the_vendors_own_logo_when_it_is_a_file_of_the_app(client, app, apple_shop, tmp_path):
    import io

    logo = Image.new("RGBA", (400, 100), (200, 30, 30, 255))
    static = tmp_path / "static"
    (static / "logos").mkdir(parents=True)
    logo.save(static / "logos" / "shop.png")
    app.static_folder = str(static)
    program_service.update_program(apple_shop.vendor.id, logo_url="/static/logos/shop.png")
    files = pass_files(client, apple_shop.card)
    for scale, suffix in ((1, ""), (2, "@2x"), (3, "@3x")):
        drawn = Image.open(io.BytesIO(files[f"logo{suffix}.png"]))
        assert drawn.size == (160 * scale, 40 * scale)  # fitted into 160 x 50, ratio kept
        assert drawn.convert("RGB").getpixel((5, 5)) == (200, 30, 30)
        icon = Image.open(io.BytesIO(files[f"icon{suffix}.png"]))
        assert icon.size == (29 * scale, 29 * scale)
    program_service.update_program(apple_shop.vendor.id, logo_url="/static/../../etc/passwd")
    files = pass_files(client, apple_shop.card)  # not a file of the app: drawn initials
    assert Image.open(io.BytesIO(files["logo.png"])).size == (50, 50)
