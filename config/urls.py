from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.api import router
from core.auth_views import LogoutView, TokenLoginView
from points import pages
from reports import admin_pages as report_admin_pages
from reports import public as public_pages

admin.site.site_header = _("Grid governance and points")
admin.site.site_title = _("Grid governance")
admin.site.index_title = _("Administration")

urlpatterns = [
    # The points anomaly check (issue 15), an admin page of its own (before the admin's URLs).
    path(
        "admin/points/anomalies/",
        admin.site.admin_view(report_admin_pages.points_anomalies),
        name="points-anomalies-admin",
    ),
    path("admin/", admin.site.urls),
    # The token login counts failed logins (core.login_protection); logout deletes the token.
    path("api/v1/auth/token/", TokenLoginView.as_view(), name="api-token"),
    path("api/v1/auth/logout/", LogoutView.as_view(), name="api-logout"),
    # The field app (issue 11): its bundle (before the router) and the built app at /m/.
    path("", include("field.urls")),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    # The residents' login (a mobile page); the admin keeps its own at /admin/login/.
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(next_page="login"), name="logout"),
    path("volunteers/", include("volunteers.urls")),
    # The partner contact's phone pages (issue 16): their unit's micro-wishes and needs.
    path("partner/", include("residents.partner_urls")),
    path("", include("notifications.urls")),  # /me/inbox/ (issue 14)
    path("", include("residents.urls")),  # a resident's needs: /me/needs/ (issue 16)
    path("", include("points.urls")),
    path("", include("grids.urls")),
    # A community's public figures page, no login, opt-in (issue 12).
    path("public/<slug:code>/", public_pages.community_page, name="public-community"),
    # The dashboard page (issue 12); its figures are the API's reports/dashboard/.
    path("", include("reports.urls")),
    path("", pages.home, name="home"),
]

handler400 = "config.exceptions.bad_request"
handler403 = "config.exceptions.permission_denied"
handler404 = "config.exceptions.not_found"
handler500 = "config.exceptions.server_error"
