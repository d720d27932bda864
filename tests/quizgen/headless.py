"""Headless Chromium for the page tests (test_browser.py, test_browser_layout.py): where it is,
and the command line that runs it with the network off and a fresh profile."""

import shutil
from pathlib import Path

BROWSER = next(
    (shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None
)


def chromium(profile: Path, *args: str) -> list[str]:
    """``BROWSER`` headless, with no background networking, every host unresolvable and the
    proxy on a closed port (network off), a fresh ``profile`` folder, then ``args``."""
    return [
        BROWSER,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=127.0.0.1:9",
        f"--user-data-dir={profile}",
        *args,
    ]
