from django import template

register = template.Library()


@register.filter
def thousands(value):
    """12345 → 12,345 (without turning on USE_THOUSAND_SEPARATOR everywhere)."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return value
