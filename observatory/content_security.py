"""The Content-Security-Policy every response carries: the site's own files and nothing else.

Django 5.2 has no CSP support of its own (it arrives in 6.0), so this small middleware sets it.
The pages carry no inline script or style (charts are JSON data blocks drawn by
/assets/charts.js, styles live in /assets/site.css) and plotly.js is served by the app itself.

plotly.js adds its own style rules at run time: it appends an empty <style> element and fills it
through the CSSOM (insertRule), which a policy does not govern; the hash of the empty string
lets that one element in, and nothing with content. Some traces also reset a style attribute to
the empty string ('unsafe-hashes' with the same hash allows exactly that).

Frames: only a response whose view is xframe_options_exempt (the chrome-less /embed/ pages) may
be framed, by any site; everything else says frame-ancestors 'none', as X-Frame-Options DENY.
"""

from __future__ import annotations

EMPTY_SHA256 = "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"

DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": f"'self' 'unsafe-hashes' {EMPTY_SHA256}",
    "img-src": "'self' data: blob:",  # plotly's image export and modebar icons
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
}


def policy(*, frameable: bool) -> str:
    return "; ".join([*(f"{name} {value}" for name, value in DIRECTIVES.items()),
                      f"frame-ancestors {'*' if frameable else chr(39) + 'none' + chr(39)}"])


POLICY = policy(frameable=False)
EMBED_POLICY = policy(frameable=True)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            frameable = getattr(response, "xframe_options_exempt", False)
            response["Content-Security-Policy"] = EMBED_POLICY if frameable else POLICY
        return response
