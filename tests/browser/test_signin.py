"""A member signs in and out through the real pages in headless Chromium."""

from __future__ import annotations

from cltd.rules.bylaws import Bylaws
from tests.browser.conftest import LiveTrust, admit
from tests.conftest import TEST_PASSWORD


def test_member_signs_in_and_out(live_trust: LiveTrust, page, bylaws: Bylaws) -> None:  # type: ignore[no-untyped-def]
    admit(live_trust, bylaws, "rosa@example.org", "Rosa Parks-Lane")
    page.goto(live_trust.url + "/")
    page.get_by_test_id("signin-link").click()
    page.get_by_test_id("field-email").fill("rosa@example.org")
    page.get_by_test_id("field-password").fill(TEST_PASSWORD)
    page.get_by_test_id("signin-submit").click()
    assert "Rosa Parks-Lane" in page.get_by_test_id("signed-in-as").inner_text()
    assert "Rosa Parks-Lane" in page.get_by_test_id("whoami").inner_text()

    page.get_by_test_id("signout").click()
    assert page.get_by_test_id("signin-link").is_visible()
    assert page.get_by_test_id("signed-in-as").count() == 0


def test_wrong_password_is_refused_on_the_page(live_trust: LiveTrust, page, bylaws: Bylaws) -> None:  # type: ignore[no-untyped-def]
    admit(live_trust, bylaws, "omar@example.org", "Omar")
    page.goto(live_trust.url + "/signin")
    page.get_by_test_id("field-email").fill("omar@example.org")
    page.get_by_test_id("field-password").fill("not the password at all")
    page.get_by_test_id("signin-submit").click()
    assert page.get_by_test_id("signin-error").is_visible()
    assert page.get_by_test_id("signed-in-as").count() == 0


def test_language_switcher_changes_the_page_language(live_trust: LiveTrust, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_trust.url + "/signin")
    assert page.locator("html").get_attribute("lang") == "en"
    for code in ("es", "fr", "en"):
        page.get_by_test_id("language-select").select_option(code)
        page.get_by_test_id("language-apply").click()
        page.wait_for_url("**/signin")
        assert page.locator("html").get_attribute("lang") == code
