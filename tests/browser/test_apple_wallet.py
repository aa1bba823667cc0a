"""A customer taps "Add to Apple Wallet" on the card page in a real browser: the download is a
pass whose signature openssl verifies against the (test) root."""

import io
import subprocess
import zipfile

import pytest

from tests.browser.conftest import make_shop

pytestmark = pytest.mark.browser


def test_the_badge_downloads_a_pass_that_verifies(page, live_server, apple_certificates,
                                                  tmp_path):
    from loyalty_portal.services.apple_certificates import load_credentials

    app = live_server.app
    app.config.update(apple_certificates.settings)
    app.extensions["apple_wallet"] = load_credentials(app.config)
    shop = live_server.run(make_shop, apple_wallet_enabled=True)

    page.goto(f"{live_server.url}/card/{shop.public_token}")
    badge = page.get_by_role("link", name="Add to Apple Wallet")
    with page.expect_download() as download_info:
        badge.click()
    download = download_info.value
    assert download.suggested_filename == "cafe-lumiere-loyalty-card.pkpass"
    content = (tmp_path / "card.pkpass")
    download.save_as(content)

    with zipfile.ZipFile(io.BytesIO(content.read_bytes())) as archive:
        archive.extractall(tmp_path / "pass")
    result = subprocess.run(
        ["openssl", "smime", "-verify", "-binary", "-inform", "DER", "-in", "signature",
         "-content", "manifest.json", "-CAfile", apple_certificates.ca_file, "-out", "/dev/null"],
        cwd=tmp_path / "pass", capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
