"""The operator console in a real browser (Debian's Chromium, driven by Playwright) against the
running system: a real gateway and sessions worker, the sessions API on a real port, and a
simulated 1.6 station. The station appears in the fleet, online, live; a remote start from its
page is answered Accepted and the session it starts shows on the page."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.e2e.test_sessions import _define_token
from tests.support.apis import sessions_api_on_a_port
from tests.support.gateway import GatewayProcess
from tests.support.sessions import SessionsWorker
from tests.support.simulator import simulated
from tools.browser import CHROMIUM, CHROMIUM_ARGS


@pytest_asyncio.fixture
async def console(kafka_bootstrap: str) -> AsyncIterator[tuple[str, str]]:
    """The sessions API on a real port of 127.0.0.1: (its console URL, an operator key)."""
    async with sessions_api_on_a_port(kafka_bootstrap, "console") as (url, key):
        yield f"{url}/console", key


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=list(CHROMIUM_ARGS)
        )
        try:
            yield chromium
        finally:
            await chromium.close()


async def _signed_in(page: Page, url: str, key: str) -> None:
    await page.goto(url)
    await page.fill("#key", key)
    await page.click("#login-form button[type=submit]")
    await expect(page.locator("#fleet")).to_be_visible()
    await expect(page.locator("#live")).to_have_text("live", timeout=10_000)


async def test_a_station_appears_online_and_a_remote_start_from_its_page_starts_a_session(
    kafka_bootstrap: str,
    gateway: GatewayProcess,
    sessions: SessionsWorker,
    console: tuple[str, str],
    browser: Browser,
    tmp_path: Path,
) -> None:
    url, key = console
    tag = f"CONSOLE-{uuid.uuid4().hex[:8]}"
    await _define_token(kafka_bootstrap, tag)
    prefix = f"0C{uuid.uuid4().hex[:6]}"  # sorts before every other test's stations: page one
    station_id = f"{prefix}00001"
    page = await browser.new_page()
    violations: list[str] = []
    page.on(
        "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
    )
    await _signed_in(page, url, key)
    row = page.locator(f'tr[data-station-id="{station_id}"]')
    with simulated(gateway, prefix, tmp_path / "simulator.log", version="1.6"):
        await expect(row).to_contain_text("online", timeout=20_000)  # it appeared, live
        await expect(row).to_contain_text("ocpp1.6")
        await row.get_by_role("link", name=station_id).click()
        await expect(page.locator("#station-id")).to_have_text(station_id)
        await expect(page.locator("#station-online")).to_have_text("online")
        start = page.locator('form[data-command="RemoteStart"]')
        await start.locator('input[name="id_token"]').fill(tag)
        await start.get_by_role("button", name="Remote start").click()
        await expect(page.locator("#outcome")).to_contain_text("Answered Accepted", timeout=20_000)
        session = page.locator("#sessions tbody tr", has_text=tag)
        await expect(session).to_contain_text("open", timeout=20_000)  # live, from its feed
        await expect(page.locator("#stop-transaction option")).to_have_count(1)
        await page.screenshot(path=str(tmp_path / "console-station.png"), full_page=True)
        stop = page.locator('form[data-command="RemoteStop"]')
        await stop.get_by_role("button", name="Remote stop").click()
        await expect(page.locator("#outcome")).to_contain_text("Answered Accepted", timeout=20_000)
        await expect(session).to_contain_text("ended", timeout=20_000)
    assert violations == []  # the page works under its Content-Security-Policy
