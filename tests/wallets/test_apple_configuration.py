"""Start-up refuses Apple Wallet settings that cannot work; `flask loyalty apple check` and
`flask loyalty apple dev-certs`."""

from datetime import UTC, datetime

import pytest

from loyalty_portal import create_app
from loyalty_portal.services.apple_certificates import (
    AppleWalletConfigurationError,
    make_dev_certificates,
)
from tests.conftest import _test_config

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def start(db_url, **settings):
    return create_app({**_test_config(db_url), **settings})


def test_a_consistent_set_starts_and_loads(db_url, apple_certificates):
    app = start(db_url, **apple_certificates.settings)
    credentials = app.extensions["apple_wallet"]
    assert credentials.pass_type_identifier == "pass.test.loyalty-portal"
    assert credentials.apns_url == "https://api.push.apple.com"  # production by default


def test_nothing_set_means_apple_wallet_off(db_url):
    assert "apple_wallet" not in start(db_url).extensions


def test_a_half_configured_set_is_refused(db_url, apple_certificates):
    settings = dict(apple_certificates.settings)
    del settings["APPLE_WWDR_CERTIFICATE"]
    with pytest.raises(AppleWalletConfigurationError, match="APPLE_WWDR_CERTIFICATE missing"):
        start(db_url, **settings)


def test_a_certificate_for_another_pass_type_is_refused(db_url, apple_certificates):
    with pytest.raises(AppleWalletConfigurationError, match="is for the pass type"):
        start(db_url, **{**apple_certificates.settings,
                         "APPLE_PASS_TYPE_IDENTIFIER": "pass.com.example.other"})


def test_a_certificate_of_another_team_is_refused(db_url, apple_certificates):
    with pytest.raises(AppleWalletConfigurationError, match="belongs to the team"):
        start(db_url, **{**apple_certificates.settings, "APPLE_TEAM_IDENTIFIER": "OTHERTEAM"})


def test_a_wwdr_that_did_not_issue_the_certificate_is_refused(db_url, apple_certificates,
                                                               tmp_path):
    other = make_dev_certificates("pass.test.loyalty-portal", "TESTTEAM01",
                                  not_before=LONG_AGO, valid_days=7300)
    other_settings = other.write(tmp_path)
    with pytest.raises(AppleWalletConfigurationError, match="does not verify|did not issue"):
        start(db_url, **{**apple_certificates.settings,
                         "APPLE_WWDR_CERTIFICATE": other_settings["APPLE_WWDR_CERTIFICATE"]})
    # A WWDR with another name altogether: the issuer does not even match.
    with pytest.raises(AppleWalletConfigurationError, match="did not issue"):
        start(db_url, **{**apple_certificates.settings,
                         "APPLE_WWDR_CERTIFICATE": apple_certificates.ca_file})


def test_an_expired_certificate_is_refused(db_url, tmp_path):
    expired = make_dev_certificates(not_before=LONG_AGO, valid_days=30).write(tmp_path)
    with pytest.raises(AppleWalletConfigurationError, match="expired on 2020-01-31"):
        start(db_url, **expired)


def test_a_key_that_is_not_the_certificates_or_a_wrong_password_is_refused(
    db_url, apple_certificates, tmp_path
):
    other = make_dev_certificates(not_before=LONG_AGO, valid_days=7300).write(tmp_path)
    with pytest.raises(AppleWalletConfigurationError, match="is not the key"):
        start(db_url, **{**apple_certificates.settings, "APPLE_PASS_KEY": other["APPLE_PASS_KEY"],
                         "APPLE_PASS_KEY_PASSWORD": ""})
    with pytest.raises(AppleWalletConfigurationError, match="cannot be read"):
        start(db_url, **{**apple_certificates.settings, "APPLE_PASS_KEY_PASSWORD": "wrong"})
    with pytest.raises(AppleWalletConfigurationError, match="cannot read"):
        start(db_url, **{**apple_certificates.settings,
                         "APPLE_PASS_CERTIFICATE": str(tmp_path / "missing.pem")})


def test_a_der_certificate_as_apple_delivers_it_is_accepted(db_url, apple_certificates,
                                                            tmp_path):
    from cryptography.hazmat.primitives.serialization import Encoding

    der = tmp_path / "pass.cer"
    der.write_bytes(apple_certificates.chain.certificate.public_bytes(Encoding.DER))
    wwdr = tmp_path / "AppleWWDRCAG4.cer"
    wwdr.write_bytes(apple_certificates.chain.wwdr.public_bytes(Encoding.DER))
    app = start(db_url, **{**apple_certificates.settings, "APPLE_PASS_CERTIFICATE": str(der),
                           "APPLE_WWDR_CERTIFICATE": str(wwdr)})
    assert "apple_wallet" in app.extensions


def test_http_web_service_only_on_the_loopback_or_when_allowed(db_url, apple_certificates):
    settings = {**apple_certificates.settings, "PUBLIC_BASE_URL": "http://shop.example.com"}
    with pytest.raises(AppleWalletConfigurationError, match="not https"):
        start(db_url, **settings)
    assert "apple_wallet" in start(db_url, **settings, APPLE_WALLET_ALLOW_HTTP=True).extensions
    https = {**settings, "PUBLIC_BASE_URL": "https://shop.example.com"}
    assert "apple_wallet" in start(db_url, **https).extensions


def test_flask_loyalty_apple_check(db_url, apple_certificates):
    app = start(db_url, **apple_certificates.settings)
    result = app.test_cli_runner().invoke(args=["loyalty", "apple", "check"])
    assert result.exit_code == 0, result.output
    assert "Apple Wallet OK: pass type pass.test.loyalty-portal, team TESTTEAM01" in result.output
    assert "valid until 2039-12-" in result.output

    bare = start(db_url).test_cli_runner().invoke(args=["loyalty", "apple", "check"])
    assert bare.exit_code == 0 and "not configured" in bare.output

    app.config["APPLE_PASS_TYPE_IDENTIFIER"] = "pass.com.example.other"  # changed on disk/env
    broken = app.test_cli_runner().invoke(args=["loyalty", "apple", "check"])
    assert broken.exit_code == 1 and "is for the pass type" in broken.output


def test_flask_loyalty_apple_dev_certs_makes_a_set_that_starts(db_url, tmp_path):
    runner = start(db_url).test_cli_runner()
    directory = tmp_path / "apple-dev"
    result = runner.invoke(args=["loyalty", "apple", "dev-certs", "--directory", str(directory)])
    assert result.exit_code == 0, result.output
    settings = dict(line.split("=", 1) for line in result.output.splitlines() if "=" in line)
    assert settings["APPLE_PASS_TYPE_IDENTIFIER"] == "pass.dev.loyalty-portal"
    app = start(db_url, **settings)
    assert app.extensions["apple_wallet"].team_identifier == "DEVTEAM001"

    before = (directory / "pass.pem").read_bytes()
    again = runner.invoke(args=["loyalty", "apple", "dev-certs", "--directory", str(directory),
                                "--if-missing"])
    assert again.exit_code == 0 and (directory / "pass.pem").read_bytes() == before
    assert oct((directory / "pass-key.pem").stat().st_mode)[-3:] == "600"
