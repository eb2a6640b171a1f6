import django_filters as filters

from core.filters import IdFilter
from volunteers.models import Activity, Membership, PartnerOrganisation, Team


class TeamFilter(filters.FilterSet):
    community = IdFilter(field_name="community")

    class Meta:
        model = Team
        fields = ["community", "kind"]


class MembershipFilter(filters.FilterSet):
    resident = IdFilter(field_name="resident")

    class Meta:
        model = Membership
        fields = ["resident", "role", "active"]


class ActivityFilter(filters.FilterSet):
    team = IdFilter(field_name="team")
    community = IdFilter(field_name="team__community")
    starts_at = filters.IsoDateTimeFromToRangeFilter(
        help_text="starts_at_after / starts_at_before: a range of times, both included."
    )

    class Meta:
        model = Activity
        fields = ["team", "community", "status", "starts_at"]


class PartnerOrganisationFilter(filters.FilterSet):
    community = IdFilter(field_name="community")

    class Meta:
        model = PartnerOrganisation
        fields = ["community", "active"]
