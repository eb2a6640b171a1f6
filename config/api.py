"""The API router: every endpoint under /api/v1/."""

from rest_framework.routers import DefaultRouter

from grids.views import (
    CommunityViewSet,
    GridViewSet,
    GridWorkerViewSet,
    PartnerUnitViewSet,
    StreetViewSet,
)
from points.views import (
    AccountViewSet,
    CatalogItemViewSet,
    ClaimViewSet,
    EntryViewSet,
    MeViewSet,
    ObjectionViewSet,
    OrderViewSet,
    PeriodViewSet,
    RankingViewSet,
    RedemptionWindowViewSet,
    RuleViewSet,
)
from residents.views import (
    DueVisitViewSet,
    HouseholdViewSet,
    ResidentViewSet,
    TagViewSet,
    VisitViewSet,
)

router = DefaultRouter()
router.register("streets", StreetViewSet)
router.register("communities", CommunityViewSet)
router.register("grids", GridViewSet)
router.register("grid-workers", GridWorkerViewSet)
router.register("partner-units", PartnerUnitViewSet)
router.register("households", HouseholdViewSet)
router.register("residents", ResidentViewSet)
router.register("tags", TagViewSet)
# Before "visits", or "visits/due/" would be read as the visit with id "due".
router.register("visits/due", DueVisitViewSet, basename="visit-due")
router.register("visits", VisitViewSet)
# Points. The claims' bulk actions (point-claims/bulk-approve/) are routes of the claims
# viewset, which DRF lists before the detail route; no separate prefix needed.
router.register("point-rules", RuleViewSet)
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
