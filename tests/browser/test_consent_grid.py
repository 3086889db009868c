"""A member uses the consent grid in Chromium: one click consents, one click withdraws, and the
grid speaks the language chosen with the switcher. No script runs: the page is forms and links."""

from __future__ import annotations

from cltd.adapters.clock import now
from cltd.db import make_sessionmaker, session_scope
from cltd.rules.bylaws import Bylaws
from cltd.rules.purposes import Access
from cltd.services import assets as asset_service
from tests.browser.conftest import LiveTrust, admit
from tests.conftest import TEST_PASSWORD


def _asset(trust: LiveTrust, bylaws: Bylaws) -> int:
    with session_scope(make_sessionmaker(trust.engine)) as session:
        asset = asset_service.create_asset(
            session,
            bylaws,
            slug="housing-survey",
            title={"en": "Housing survey", "es": "Encuesta de vivienda"},
            description={"en": "Damp and repairs."},
            keywords=["housing"],
            actor="steward:test",
            at=now(),
            fields=[{"name": "street", "type": "text", "required": True}],
            permitted={"public-benefit": ["street"]},
        )
        session.flush()
        return asset.id


def test_member_toggles_a_cell_and_reads_the_grid_in_each_language(
    live_trust: LiveTrust, page, bylaws: Bylaws
) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    admit(live_trust, bylaws, "lena@example.org", "Lena")
    asset_id = _asset(live_trust, bylaws)
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )

    page.goto(live_trust.url + "/signin")
    page.get_by_test_id("field-email").fill("lena@example.org")
    page.get_by_test_id("field-password").fill(TEST_PASSWORD)
    page.get_by_test_id("signin-submit").click()
    page.get_by_test_id("nav-my-data").click()
    page.wait_for_url("**/my-data")

    anchor = f"c-{asset_id}-public-benefit"
    cell, child = (
        page.get_by_test_id(anchor),
        page.get_by_test_id(f"c-{asset_id}-combat-climate-change"),
    )
    expect(cell).to_have_attribute("data-state", "none")
    page.get_by_test_id(f"toggle-{anchor}").click()
    page.wait_for_url(f"**/my-data#{anchor}")
    expect(cell).to_have_attribute("data-state", "consented")
    expect(child).to_have_attribute("data-state", "covered")
    expect(page.get_by_test_id(f"status-{anchor}")).to_contain_text("Consented")
    expect(page.get_by_test_id("consent-history").locator("tbody tr")).to_have_count(1)

    page.get_by_test_id(f"toggle-{anchor}").click()
    expect(cell).to_have_attribute("data-state", "none")
    expect(child).to_have_attribute("data-state", "none")
    expect(page.get_by_test_id(f"status-{anchor}")).to_contain_text("Not consented")

    shown = [key for key, p in bylaws.taxonomy.purposes.items() if p.access != Access.PROHIBITED]
    for code in ("es", "fr"):
        page.get_by_test_id("language-select").select_option(code)
        page.get_by_test_id("language-apply").click()
        page.wait_for_url("**/my-data")
        assert page.locator("html").get_attribute("lang") == code
        for key in shown:
            name = page.get_by_test_id(f"c-all-{key}").get_by_test_id("purpose-name")
            expect(name).to_have_text(bylaws.taxonomy[key].name(code))
    expect(page.get_by_test_id(f"asset-{asset_id}").locator("h2")).to_contain_text("Housing survey")
    expect(page.get_by_test_id(f"asset-{asset_id}").get_by_test_id("fallback")).to_be_visible()
    assert not problems, problems  # nothing refused by the Content-Security-Policy
