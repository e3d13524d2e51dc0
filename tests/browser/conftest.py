"""Playwright driving the OS Chromium (Debian's `chromium` package) against `live_server`.

Playwright's own browser download does not work on our machines, so the
executable comes from CHROMIUM_PATH or the PATH. Screenshots land in
test-artifacts/ for CI to keep.
"""

import contextlib
import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

# Playwright's sync API runs an event loop in this thread; the ORM calls that
# set up test data are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.path):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    executable = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not executable:
        pytest.fail("No Chromium: apt-get install -y chromium, or set CHROMIUM_PATH.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Runs in every page before its own scripts: collects what the page's CSP refused.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}`);
});
"""


@pytest.fixture
def browser_problems() -> list[str]:
    """CSP violations and script errors seen by `page`; any left at the end fails the test."""
    return []


@pytest.fixture
def page(browser, live_server, browser_problems):
    """A page whose test fails if any page it visits breaks the Content-Security-Policy or
    raises a script error: every browser test checks the headers on what it visits."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    context.add_init_script(RECORD_CSP_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("pageerror", lambda error: browser_problems.append(f"script error: {error}"))
    page.on("console", lambda message: _console(message, browser_problems))
    yield page
    # The last document's own record (Chromium also logs each violation to the console);
    # a page that is a download or already gone has none to give.
    with contextlib.suppress(Exception):
        browser_problems.extend(page.evaluate("window.__cspViolations || []"))
    context.close()
    assert not browser_problems, "\n".join(browser_problems)


def _console(message, problems: list[str]) -> None:
    if message.type == "error" and "Content Security Policy" in message.text:
        problems.append(f"console: {message.text}")


@pytest.fixture
def login(page):
    """Sign in through the admin's login form, as a person would."""

    def sign_in(username: str, password: str = "pw") -> None:
        page.goto("/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_selector("#user-tools")

    return sign_in


@pytest.fixture
def open_as(browser, live_server):
    """A signed-in page per user, each in its own browser context (its own session), in the
    narrowest window the portal's lists must fit (1366 pixels wide)."""
    contexts = []

    def open_page(username: str):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1366, "height": 768}
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto("/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", "pw")
        page.click("input[type=submit]")
        page.wait_for_selector("#user-tools")
        return page

    yield open_page
    for context in contexts:
        context.close()


def save_screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """The page as it looks now, in test-artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=path, full_page=full_page)
    return path


@pytest.fixture
def screenshot(page):
    def save(name: str) -> Path:
        return save_screenshot(page, name)

    return save


def messages(page) -> list[str]:
    """The messages the page shows (not the banner of a user without a tenant)."""
    shown = "ul.messagelist li:not(#no-tenant-banner)"
    page.wait_for_selector(shown)
    return page.locator(shown).all_inner_texts()


def decide_on_draft_page(page, draft, button: str, reason: str = "") -> None:
    """Open the draft, press Approve… or Reject…, give the words and confirm."""
    page.goto(f"/admin/storage/draft/{draft.pk}/change/")
    page.click(f"#decision-buttons button:has-text('{button}')")
    page.fill("textarea[name=reason]", reason)
    page.click(f"input[type=submit][value='Yes, {button.lower()}']")
