"""Accessibility as a checked property (issue 23): axe-core on every page of the demo that each
role reaches by links (the login page too), at 768×1024 and 1024×768, with the WCAG 2.0/2.1/2.2
A and AA rules and axe's best practices: no violation of any impact."""
from __future__ import annotations

import pytest

from helpers.a11y import VIEWPORTS, audit
from seed.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.parametrize("username", ["expert01", "chair", "admin"])
def test_axe_finds_nothing_on_any_page(demo, live_server, browser, username):
    pages, findings = audit(browser, live_server, username, DEMO_PASSWORD, VIEWPORTS,
                            with_login=username == "expert01")
    assert len(pages) >= (3 if username == "expert01" else 20), pages
    assert not findings, f"{len(findings)} axe violations:\n" + "\n".join(map(str, findings))
