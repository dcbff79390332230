"""A real reader: headless Chromium, driven by Playwright, through the embedded handbook."""

import os
import shutil

import pytest

from .handbook import REPO

CHROMIUM = os.environ.get("HANDBOOK_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = REPO / "_build" / "screenshots"
# Without these, Chromium reaches for the network at start-up, and here it has none.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

# What a browser makes of the pages (scripts, styles, navigation) is the same on every Django; the test client
# checks what each Django serves.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.once,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (Debian: apt-get install chromium)"),
]


@pytest.fixture
def browser_page(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM is not used from it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        yield page
        browser.close()


def test_reader_follows_navigation_and_sees_the_picture(browser_page, live_server):
    page = browser_page
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/handbook/")
    assert page.title().startswith("The handbook of safe Django migrations")

    page.locator(".handbook-toctree").get_by_role("link", name="Why migrations run before the code").click()
    page.wait_for_url("**/handbook/docs/explanations/why-migrations-run-before-the-code/")
    assert page.locator("h1").first.inner_text().startswith("Why migrations run before the code")

    image = page.locator("article img").first
    image.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete", arg=image.element_handle())
    assert image.evaluate("img => img.naturalWidth") > 0, "the diagram did not load"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "embedded-explanation.png", full_page=True)
    assert not errors, f"JavaScript errors: {errors}"


def test_engine_tabs_stay_in_sync(browser_page, live_server):
    page = browser_page
    page.goto(f"{live_server.url}/handbook/docs/checklist/")
    page.get_by_text("MariaDB", exact=True).first.click()
    assert page.get_by_text("Schema changes are not transactional").is_visible()
    page.screenshot(path=SCREENSHOTS / "embedded-checklist-tabs.png", full_page=True)
    # sphinx-design remembers the choice, so other pages open on the same engine.
    assert page.evaluate("() => localStorage.getItem('sphinx-design-tab-id-engine')") == "mysql"


def test_code_in_a_guide_is_coloured(browser_page, live_server):
    page = browser_page
    page.goto(f"{live_server.url}/handbook/guides/add-index-concurrently/")
    block = page.locator("article div.highlight").filter(has=page.locator("span.kn")).first
    block.scroll_into_view_if_needed()
    keyword = block.locator("span.kn").first
    colour = "element => getComputedStyle(element).color"
    plain = block.locator("pre").evaluate(colour)
    page.screenshot(path=SCREENSHOTS / "embedded-guide-code.png")
    assert keyword.evaluate(colour) != plain, f"{keyword.inner_text()!r} has the plain text's colour {plain}"


PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("path", ["guides/add-index-concurrently/", "docs/checklist/"])
def test_pages_are_usable_on_a_phone(browser_page, live_server, path):
    page = browser_page
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/handbook/{path}")
    # Nothing makes the page itself scroll sideways: wide code and tables scroll inside their own box.
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px screen"
    # The page comes first, readable without zooming; the navigation follows it.
    heading = page.locator("article h1").first
    box = heading.bounding_box()
    assert box["y"] < PHONE["height"] / 2 and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert float(page.locator("article p").first.evaluate("p => getComputedStyle(p).fontSize")[:-2]) >= 14
    nav = page.locator("nav.handbook-nav").bounding_box()
    assert nav["y"] > box["y"], "the navigation comes before the page"
    search = page.locator(".handbook-search input")
    search.scroll_into_view_if_needed()
    assert search.bounding_box()["x"] + search.bounding_box()["width"] <= PHONE["width"]
    name = "embedded-phone-" + path.strip("/").replace("/", "-") + ".png"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=SCREENSHOTS / name)
