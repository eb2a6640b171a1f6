"""The API router: every endpoint under /api/v1/."""

from rest_framework.routers import DefaultRouter

from grids.views import (
    AgendaItemViewSet,
    CommunityViewSet,
    CouncilViewSet,
    GridViewSet,
    GridWorkerViewSet,
    PartnerUnitViewSet,
    ProjectViewSet,
    ResourceViewSet,
    StreetViewSet,
)
from notifications.views import NotificationViewSet
from points.views.audit_export import AuditExportViewSet
from points.views.claims import ClaimViewSet, ObjectionViewSet, RankingViewSet, RuleViewSet
from points.views.ledger import AccountViewSet, EntryViewSet
from points.views.me import MeViewSet
from points.views.quarters import PeriodViewSet
from points.views.redemption import CatalogItemViewSet, OrderViewSet, RedemptionWindowViewSet
from points.views.rulebooks import RuleBookViewSet
from reports.views import (
    DashboardViewSet,
    NeedsReportViewSet,
    PointsAnomalyViewSet,
    WorkerReportViewSet,
)
from residents.views import (
    AbsenceViewSet,
    DueVisitViewSet,
    HouseholdViewSet,
    NeedViewSet,
    RectificationViewSet,
    ResidentViewSet,
    TagViewSet,
    VisitViewSet,
)
from volunteers.views import (
    ActivityViewSet,
    PartnerOrganisationViewSet,
    TeamViewSet,
    VolunteerHoursViewSet,
)

router = DefaultRouter()
router.register("streets", StreetViewSet)
router.register("communities", CommunityViewSet)
router.register("grids", GridViewSet)
router.register("grid-workers", GridWorkerViewSet)
router.register("partner-units", PartnerUnitViewSet)
# Lists and the monthly council (议事会); a council's agenda is councils/{id}/agenda-items/.
router.register("resources", ResourceViewSet)
router.register("projects", ProjectViewSet)
router.register("councils", CouncilViewSet)
router.register("agenda-items", AgendaItemViewSet)
router.register("households", HouseholdViewSet)
router.register("residents", ResidentViewSet)
router.register("tags", TagViewSet)
# Before "visits", or "visits/due/" would be read as the visit with id "due".
router.register("visits/due", DueVisitViewSet, basename="visit-due")
router.register("visits", VisitViewSet)
# Residents recorded away (issue 15), read by the points anomaly report.
router.register("absences", AbsenceViewSet)
# Needs (issue 5): the closed loop, its timeline, and the rectifications low ratings open.
router.register("needs", NeedViewSet)
router.register("rectifications", RectificationViewSet)
# Points. The claims' bulk actions (point-claims/bulk-approve/) are routes of the claims
# viewset, which DRF lists before the detail route; no separate prefix needed.
router.register("point-rules", RuleViewSet)
# Versions of the rule books (issue 15), read-only: made and adopted in the admin.
router.register("point-rule-books", RuleBookViewSet, basename="point-rule-book")
router.register("point-claims", ClaimViewSet)
router.register("point-accounts", AccountViewSet)
router.register("point-entries", EntryViewSet)
router.register("periods", PeriodViewSet)
router.register("rankings", RankingViewSet, basename="ranking")
router.register("objections", ObjectionViewSet)
router.register("catalog-items", CatalogItemViewSet)
router.register("redemption-windows", RedemptionWindowViewSet)
router.register("redemption-orders", OrderViewSet)
router.register("me", MeViewSet, basename="me")
# The audit export of a quarter and a community (issue 15): signed ZIP of CSVs or xlsx.
router.register("points/audit-export", AuditExportViewSet, basename="points-audit-export")
# Notifications (issue 14): the caller's inbox, unread count, mark read.
router.register("notifications", NotificationViewSet, basename="notification")
# Volunteers
router.register("volunteer-teams", TeamViewSet)
router.register("activities", ActivityViewSet)
router.register("partner-organisations", PartnerOrganisationViewSet)
router.register("reports/volunteer-hours", VolunteerHoursViewSet, basename="volunteer-hours")
# Reports (issue 5): needs figures and the grid workers' quarterly assessment.
router.register("reports/needs", NeedsReportViewSet, basename="report-needs")
router.register("reports/workers", WorkerReportViewSet, basename="report-workers")
# The dashboard (issue 12): reports/dashboard/ and reports/dashboard/map/.
router.register("reports/dashboard", DashboardViewSet, basename="report-dashboard")
# The points anomaly report (issue 15): the claims of a quarter to look at twice.
router.register(
    "reports/points-anomalies", PointsAnomalyViewSet, basename="report-points-anomalies"
)
