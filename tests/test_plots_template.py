"""`dvc plots show` works offline: .dvc/config points DVC at a page template with the Vega libraries inlined."""
from __future__ import annotations

import configparser
import re

from tests.conftest import ROOT


def test_plots_template_is_configured_and_loads_nothing_from_the_network():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / ".dvc" / "config")
    template = ROOT / ".dvc" / cfg["plots"]["html_template"]   # DVC reads it relative to .dvc/
    html = template.read_text(encoding="utf8")
    assert "{plot_divs}" in html                               # DVC's placeholder for the plots
    assert "{scripts}" not in html                             # so DVC's CDN <script src> tags are never inserted
    assert not re.search(r"<script[^>]*\bsrc=", html)          # every library inline
    assert "window.vegaEmbed" in html                          # what DVC's Vega plots call
