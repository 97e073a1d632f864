"""The browser harness itself: Chromium starts headless, screenshots land in the output folder,
and a page's JavaScript error is seen (so "zero errors" in the other tests means something)."""
from __future__ import annotations

import pytest


@pytest.mark.js_errors_expected
def test_a_thrown_error_and_a_console_error_are_counted(browser):
    window = browser()
    window.driver.get("data:text/html,<p id=ok>ok</p><script>console.error('seen');"
                      "setTimeout(() => { throw new Error('boom') }, 0)</script>")
    window.driver.find_element("id", "ok")
    window.driver.execute_script("return new Promise(r => setTimeout(r, 100))")
    errors = window.errors()
    assert any("seen" in e for e in errors) and any("boom" in e for e in errors), errors


def test_a_phone_sized_window_is_375_css_pixels_wide_and_screenshots_are_written(browser):
    window = browser(size=(375, 812))
    window.driver.get("data:text/html;charset=utf-8,<meta charset=utf-8><meta name=viewport content='width=device-width'><p>手机</p>")
    assert window.driver.execute_script("return window.innerWidth") == 375
    path = window.shot("phone")
    assert path.stat().st_size > 1000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
