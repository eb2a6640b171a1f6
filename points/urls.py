"""The server-rendered points pages (the API lives under /api/v1/, see config.api)."""

from django.urls import path

from points import pages

app_name = "points"

urlpatterns = [
    path("me/", pages.me, name="me"),
    path("me/orders/", pages.me_order, name="me_order"),
    path("me/orders/<int:order_id>/cancel/", pages.me_cancel_order, name="me_cancel_order"),
    path("notice/<str:code>/<int:grid_id>/", pages.notice, name="notice"),
    path("cards/sheet/<int:grid_id>/", pages.card_sheet, name="card_sheet"),
    path("cards/<str:number>/", pages.card, name="card"),
]
