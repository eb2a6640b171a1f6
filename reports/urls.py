from django.urls import path

from reports import pages

urlpatterns = [
    # The dashboard (issue 12): the page; its figures are the API's reports/dashboard/.
    path("dashboard/", pages.dashboard, name="dashboard"),
]
