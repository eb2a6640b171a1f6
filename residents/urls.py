"""The residents' server-rendered pages (the API lives under /api/v1/, see config.api)."""

from django.urls import path

from residents import pages

app_name = "residents"

urlpatterns = [
    path("me/needs/", pages.my_needs, name="my_needs"),
    path("me/needs/new/", pages.report_need, name="report_need"),
    path("me/needs/<int:need_id>/", pages.my_need, name="my_need"),
    path("me/needs/<int:need_id>/rate/", pages.rate_need, name="rate_need"),
]
