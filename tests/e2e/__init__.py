"""Browser tests of the web board: real hub subprocesses driven by Playwright and Debian's Chromium."""
