"""Write .dvc/plots/offline.html: DVC's plots page template with the Vega, Vega-Lite and Vega-Embed libraries inlined
(from vl-convert-python's bundle), so that `dvc plots show` / `dvc plots diff` render with no network.

    pip install vl-convert-python && python bench/make_plots_template.py

`.dvc/config` points DVC at it (`plots.html_template = plots/offline.html`, relative to .dvc/). The generated file is
committed, so users need neither the package nor the network; rerun this script to update the libraries.
"""
from __future__ import annotations

from pathlib import Path

import vl_convert

OUT = Path(__file__).resolve().parents[1] / ".dvc" / "plots" / "offline.html"

PAGE = """<!DOCTYPE html>
<html>
<head>
    {refresh_tag}
    <meta charset="utf-8">
    <title>DVC Plots</title>
    <!-- Vega, Vega-Lite and Vega-Embed inlined (vl-convert-python %(version)s): no network needed -->
    <script type="text/javascript">
%(bundle)s
    </script>
    <style>
        body { font-family: sans-serif; }
        table { border-spacing: 15px; }
        img { max-width: 100%%; }
    </style>
</head>
<body>
    {plot_divs}
</body>
</html>
"""


def main() -> None:
    bundle = vl_convert.javascript_bundle()
    if "{plot_divs}" in bundle or "{refresh_tag}" in bundle:
        raise SystemExit("the bundle contains a DVC template placeholder; cannot inline it")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(PAGE % {"bundle": bundle, "version": getattr(vl_convert, "__version__", "?")}, encoding="utf8")
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
