from consults.models import Notification


def unread_notices(request) -> dict:
    """The navbar's count of the user's unread notices: one COUNT a page, only when signed in."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notices": Notification.objects.for_user(user).unread().count()}
