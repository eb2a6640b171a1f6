"""The server-rendered points pages (the API lives under /api/v1/, see config.api)."""

from django.urls import path

from points import pages, paper, sms_balance

app_name = "points"

urlpatterns = [
    path("me/", pages.me, name="me"),
    path("me/orders/", pages.me_order, name="me_order"),
    path("me/orders/<int:order_id>/cancel/", pages.me_cancel_order, name="me_cancel_order"),
    path("me/rules/", pages.me_rules, name="me_rules"),
    path("me/ranking/", pages.me_ranking, name="me_ranking"),
    path("me/objections/", pages.me_objections, name="me_objections"),
    path("notice/<str:code>/<int:grid_id>/", pages.notice, name="notice"),
    path("cards/sheet/<int:grid_id>/", pages.card_sheet, name="card_sheet"),
    path("cards/<str:number>/", pages.card, name="card"),
    # The paper path (issue 14): monthly statements, the visit sheet and its round recorded.
    path("statements/<int:grid_id>/", paper.statement, name="statement"),
    path("visits/sheet/<int:grid_id>/", paper.visit_sheet, name="visit_sheet"),
    path("visits/round/<int:grid_id>/", paper.visit_round, name="visit_round"),
    # Balance by SMS (issue 14): the SMS provider's inbound webhook, off unless enabled.
    path("sms/inbound/", sms_balance.inbound, name="sms_inbound"),
]
