"""Drives Reel's dashboard in a real headless browser while a render runs.

Run by the Swift integration test DashboardTests (it starts the coordinator, a worker and the
job): Debian's chromium, driven by Playwright, must see the job appear, its chunk map fill
in without a reload, a preview image load and, once the job is done, its video play.
Screenshots go to the folder given. Exits non-zero, saying why, when any check fails.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time

from playwright.sync_api import Page, sync_playwright


def committed_cells(page: Page) -> int:
    return int(page.eval_on_selector_all("#chunk-map i.done, #chunk-map i.rerun", "cells => cells.length"))


def check(base: str, token: str, job: int, shots: str) -> None:
    executable = shutil.which("chromium")
    if executable is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        failures: list[str] = []
        page.on("pageerror", lambda error: failures.append(f"script error: {error}"))
        page.goto(base + "/")
        page.fill("#token", token)
        page.click("#login-form button")
        row = page.locator(f'#jobs tr[data-id="{job}"]')
        row.wait_for(timeout=15_000)
        page.screenshot(path=f"{shots}/jobs.png")
        row.click()
        page.wait_for_selector("#chunk-map i", timeout=15_000)
        # Set once: a reload would lose it, so the map must fill in over the live feed.
        page.evaluate("window.reelMarker = 'still the same page'")
        first = committed_cells(page)
        total = page.eval_on_selector_all("#chunk-map i", "cells => cells.length")
        deadline = time.time() + 120
        while committed_cells(page) <= first and time.time() < deadline:
            page.wait_for_timeout(200)
        later = committed_cells(page)
        if later <= first:
            failures.append(f"the chunk map did not fill in: {first} of {total} committed, then {later}")
        page.screenshot(path=f"{shots}/job-rendering.png", full_page=True)
        page.wait_for_function(
            "[...document.querySelectorAll('#previews img')].some(i => i.complete && i.naturalWidth > 0)",
            timeout=60_000,
        )
        page.wait_for_selector("#player-card:not([hidden])", timeout=240_000)
        played = page.evaluate(
            """async () => {
                const video = document.getElementById('player');
                video.muted = true;
                await video.play();
                await new Promise(resolve => setTimeout(resolve, 700));
                return { time: video.currentTime, width: video.videoWidth, error: video.error && video.error.code };
            }"""
        )
        if not (played["time"] > 0 and played["width"] > 0):
            failures.append(f"the video did not play: {played}")
        if page.evaluate("window.reelMarker") != "still the same page":
            failures.append("the page was reloaded")
        page.evaluate("document.getElementById('player').pause()")
        page.screenshot(path=f"{shots}/job-done.png", full_page=True)
        page.click("#nav-workers")
        page.wait_for_selector("#workers tr", timeout=10_000)
        page.screenshot(path=f"{shots}/workers.png")
        browser.close()
    print(
        f"chunk map {first} -> {later} of {total} committed without a reload;"
        f" previews loaded; video played to {played['time']:.2f} s"
    )
    if failures:
        raise SystemExit("; ".join(failures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--job", type=int, required=True)
    parser.add_argument("--screenshots", required=True)
    arguments = parser.parse_args()
    check(arguments.base, arguments.token, arguments.job, arguments.screenshots)


if __name__ == "__main__":
    sys.exit(main())
