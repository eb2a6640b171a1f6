"""The partner contact's pages (共建单位), under /partner/ (residents.partner_pages)."""

from django.urls import path

from residents import partner_pages

app_name = "partners"

urlpatterns = [
    path("", partner_pages.home, name="home"),
    path("needs/<int:need_id>/", partner_pages.need_detail, name="need"),
    path("needs/<int:need_id>/claim/", partner_pages.claim, name="claim"),
    path("needs/<int:need_id>/start/", partner_pages.start, name="start"),
    path("needs/<int:need_id>/resolve/", partner_pages.resolve, name="resolve"),
]
