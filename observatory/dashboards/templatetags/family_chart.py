"""{% family_chart model %}: the model card's family tree (dashboards.family_views.card_chart).

A tag rather than a context entry of pages.model_card, so the card's family panel lives with the
family code: the same first page /api/families serves by default, drawn as a sunburst."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from observatory.dashboards.family_views import card_chart

register = template.Library()


@register.simple_tag
def family_chart(model) -> str:
    chart, page = card_chart(model)
    if not chart:
        return ""
    shown = (f"the first {len(page['nodes'])} of {page['total']} models (by depth, then downloads)"
             if page["truncated"] else f"all {len(page['nodes'])} models")
    # figure_html escapes the data block itself; the note's values are escaped by format_html.
    return format_html('<div class="panel" id="family" data-nodes="{}">{}<p class="meta">The family of root {}: {}. '
                       '<a href="/families/{}">Family page</a> · <a href="/api/families/{}">JSON</a></p></div>',
                       len(page["nodes"]), mark_safe(chart), page["root"], shown, model.hub_id, model.hub_id)
