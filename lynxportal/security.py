"""Security headers on every response, and the client address sign-in throttling counts by.

Django 5.2 has no Content-Security-Policy of its own. The portal's pages, Django's
admin included, load scripts and styles from files only (no inline script, no
`style=`), so the policy allows nothing but the portal's own origin.
"""

from django.conf import settings


class SecurityHeadersMiddleware:
    """Adds CONTENT_SECURITY_POLICY and PERMISSIONS_POLICY (settings) to every response."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.headers = {
            "Content-Security-Policy": settings.CONTENT_SECURITY_POLICY,
            "Permissions-Policy": settings.PERMISSIONS_POLICY,
        }

    def __call__(self, request):
        response = self.get_response(request)
        for name, value in self.headers.items():
            response.headers.setdefault(name, value)
        return response


def client_ip(request) -> str:
    """The address failed sign-ins are counted by (django-axes).

    Behind the TLS proxy (BEHIND_TLS_PROXY) it is the last X-Forwarded-For entry,
    the one our proxy appended; entries before it are the client's to invent.
    """
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if settings.BEHIND_TLS_PROXY and forwarded:
        return forwarded.rsplit(",", 1)[-1].strip()
    return request.META.get("REMOTE_ADDR", "")
