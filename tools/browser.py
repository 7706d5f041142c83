"""Debian's Chromium, headless, as the console's browser test and benchmark launch it (I/O).

Playwright drives the machine's own Chromium (never a browser it downloads). As root there is
no sandbox, and none of Chromium's own network chatter: on a closed network its background
connections are refused many at a time.
"""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
