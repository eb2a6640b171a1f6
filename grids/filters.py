import django_filters as filters

from core.filters import IdFilter
from grids.models import Community, Grid, GridWorker, PartnerUnit


class CommunityFilter(filters.FilterSet):
    class Meta:
        model = Community
        fields = ["street", "kind"]


class GridFilter(filters.FilterSet):
    street = IdFilter(field_name="community__street")

    class Meta:
        model = Grid
        fields = ["community", "kind", "leader", "street"]


class GridWorkerFilter(filters.FilterSet):
    grid = IdFilter(field_name="assignments__grid", distinct=True)

    class Meta:
        model = GridWorker
        fields = ["community", "kind", "is_party_member", "grid"]


class PartnerUnitFilter(filters.FilterSet):
    community = IdFilter(field_name="agreements__community", distinct=True)

    class Meta:
        model = PartnerUnit
        fields = ["community"]
