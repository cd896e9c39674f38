from django import template

from gpu_workers.comparison import compare

register = template.Library()


@register.simple_tag
def probe_comparison(probe_runs, peers: int = 4):
    """`{% probe_comparison probe_runs as sections %}`: side-by-side results per probe."""
    return compare(probe_runs or [], peers=peers)
