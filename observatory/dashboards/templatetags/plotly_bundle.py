"""`{% plotly_style_placeholders %}`: keep plotly.js from injecting stylesheets the policy refuses.

At load, plotly.js 3 appends a <style> with the map library's CSS (maplibre-gl, for map traces
the observatory never draws) unless an element with its id already exists. The
Content-Security-Policy refuses that inline <style>, and the browser reports a violation on every
page; an empty placeholder with the same id makes plotly.js skip it. The ids are read from the
bundle the app serves, so an upgrade of plotly keeps working (the browser test would show a new
kind of injection as a refusal).
"""

from __future__ import annotations

import re
from functools import lru_cache

from django import template
from django.utils.html import format_html_join

register = template.Library()

# if(!document.getElementById("<id>")){var e=document.createElement("style");
_INJECTED_STYLE = re.compile(r'getElementById\("([0-9a-f]{16,128})"\)\)\{var \w+=document\.createElement\("style"\)')


@lru_cache(maxsize=1)
def injected_style_ids() -> tuple[str, ...]:
    from plotly.offline import get_plotlyjs

    return tuple(dict.fromkeys(_INJECTED_STYLE.findall(get_plotlyjs())))


@register.simple_tag
def plotly_style_placeholders() -> str:
    return format_html_join("", '<meta name="plotly-style-placeholder" id="{}">', ((i,) for i in injected_style_ids()))
