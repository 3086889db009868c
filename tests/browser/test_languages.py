"""A visitor switches the trust between English, Spanish and French with the switcher, and the
sign-in page and a problem page follow, in Chromium. Expected words come from the shipped
catalogues, so the test checks what a speaker of each language actually reads."""

from __future__ import annotations

import pytest
from babel.support import Translations

from cltd.resources import translations_dir
from tests.browser.conftest import LiveTrust


def translated(language: str, message: str) -> str:
    return Translations.load(str(translations_dir()), [language]).gettext(message)


@pytest.mark.parametrize("language", ["es", "fr", "en"])
def test_switcher_changes_the_sign_in_page_and_problem_pages(
    live_trust: LiveTrust,
    page,
    language: str,  # type: ignore[no-untyped-def]
) -> None:
    page.goto(live_trust.url + "/signin")
    page.get_by_test_id("language-select").select_option(language)
    page.get_by_test_id("language-apply").click()
    page.wait_for_url("**/signin")
    assert page.locator("html").get_attribute("lang") == language
    heading = page.locator("main h1").inner_text()
    assert heading == translated(language, "Sign in")
    assert translated(language, "Email address") in page.locator("main form").inner_text()

    page.goto(live_trust.url + "/no-such-page")
    assert page.locator("html").get_attribute("lang") == language
    problem = page.get_by_test_id("problem")
    assert translated(language, "Nothing here") in problem.inner_text()
    assert translated(language, "Back to the front page") in problem.inner_text()


def test_the_translations_differ_from_english() -> None:
    """Guards the test above: it would pass vacuously if the catalogues were English."""
    assert translated("es", "Sign in") != "Sign in"
    assert translated("fr", "Nothing here") != "Nothing here"
