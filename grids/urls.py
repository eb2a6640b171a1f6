"""The server-rendered grids pages (the API lives under /api/v1/, see config.api)."""

from django.urls import path

from grids import pages

app_name = "grids"

urlpatterns = [
    path("councils/<int:council_id>/minutes/", pages.council_minutes, name="council_minutes"),
]
