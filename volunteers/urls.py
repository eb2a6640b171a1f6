"""The server-rendered volunteer pages (the API lives under /api/v1/, see config.api)."""

from django.urls import path

from volunteers import pages

app_name = "volunteers"

urlpatterns = [
    path("activities/<int:activity_id>/qr/", pages.activity_qr, name="activity_qr"),
    path("check-in/<str:token>/", pages.check_in, name="check_in"),
]
