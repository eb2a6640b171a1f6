from django.urls import path

from notifications import pages

app_name = "notifications"

urlpatterns = [
    path("me/inbox/", pages.inbox, name="inbox"),
    path("me/inbox/read-all/", pages.read_all, name="read_all"),
]
