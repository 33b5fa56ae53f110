"""Project-wide response headers that no single app owns (docs/access-log.md#caching)."""

from django.utils.cache import patch_cache_control


class NoStoreMiddleware:
    """Every answer the app itself writes says `Cache-Control: no-store`: no copy of a page,
    file or API answer with patient data stays in a browser's or proxy's cache after sign-out.

    Placed after WhiteNoise, which answers for the static files before this runs, so they
    keep their own long-lived caching. Directives a view set itself (a download's, the
    admin's never_cache) are kept; no-store is added to them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_cache_control(response, no_store=True)
        return response
