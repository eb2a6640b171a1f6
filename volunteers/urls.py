"""The server-rendered volunteer pages (the API lives under /api/v1/, see config.api)."""

from django.urls import path

from volunteers import pages

app_name = "volunteers"

urlpatterns = [
    path("activities/<int:activity_id>/qr/", pages.activity_qr, name="activity_qr"),
    path("check-in/<str:token>/", pages.check_in, name="check_in"),
    # The team leader's pages (issue 16).
    path("lead/", pages.leader_home, name="leader_home"),
    path("lead/teams/<int:team_id>/", pages.leader_team, name="leader_team"),
    path("lead/activities/<int:activity_id>/", pages.leader_activity, name="leader_activity"),
    path(
        "lead/activities/<int:activity_id>/attendance/",
        pages.leader_attendance,
        name="leader_attendance",
    ),
    path(
        "lead/activities/<int:activity_id>/complete/",
        pages.leader_complete,
        name="leader_complete",
    ),
]
