from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core.filters import MAX_ID
from core.masking import mask_name
from grids.models import Community, Street
from points.models import (
    Account,
    CatalogItem,
    Claim,
    Closing,
    Entry,
    Objection,
    Order,
    OrderLine,
    Period,
    Policy,
    RedemptionWindow,
    Rule,
    RuleBook,
)
from points.models.governance import adopted_rule_message
from points.selectors.claims import household_label, notice_name
from points.services import rulebooks as rulebooks_services
from residents.models import Resident

# Far above any rule book's numbers, far below the integer columns' limit.
MAX_POINTS = 1_000_000
# A claim's date names its quarter (2026Q4): four-digit years, and nothing from before the
# scheme could have existed.
EARLIEST_CLAIM_DATE = dt.date(2000, 1, 1)
# The ledger's note column holds 500 characters.
NOTE_MAX = 500
MAX_BULK_IDS = 10_000


class PeriodCodeField(serializers.SlugRelatedField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "The quarter's code, such as 2026Q4.")
        super().__init__(slug_field="code", read_only=True, **kwargs)


# ---------------------------------------------------------------------------- rules


class RuleSerializer(serializers.ModelSerializer):
    book = serializers.PrimaryKeyRelatedField(
        queryset=RuleBook.objects.all(),
        required=False,
        allow_null=True,
        help_text="The rule book version (point-rule-books) the rule belongs to. On create, a "
        "draft of the rule's own book; left out, the book's draft, or none while the community "
        "(or street) has no book yet (an unversioned rule). A rule of an adopted version is "
        "never changed or deleted: make a new version.",
    )
    version = serializers.IntegerField(
        source="book.version",
        read_only=True,
        allow_null=True,
        help_text="The version number of the rule's book; null for an unversioned rule.",
    )
    community = serializers.PrimaryKeyRelatedField(
        queryset=Community.objects.all(),
        required=False,
        allow_null=True,
        help_text="The community whose rule book this is; null for a street's default book.",
    )
    street = serializers.PrimaryKeyRelatedField(
        queryset=Street.objects.all(),
        required=False,
        allow_null=True,
        help_text="The street whose default rule book this is (copied into new communities).",
    )

    class Meta:
        model = Rule
        fields = [
            "id",
            "community",
            "street",
            "book",
            "version",
            "code",
            "name",
            "category",
            "points",
            "up_to",
            "cap_per_quarter",
            "active",
        ]
        # Uniqueness is checked in validate(): DRF's validators for the two nullable
        # constraints would make both owners required.
        validators: list[Any] = []
        extra_kwargs = {
            "points": {"min_value": 1, "max_value": MAX_POINTS},
            "cap_per_quarter": {"min_value": 1, "max_value": MAX_POINTS},
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        def current(name: str) -> Any:
            return attrs[name] if name in attrs else getattr(self.instance, name, None)

        community, street = current("community"), current("street")
        if self.instance is not None and (
            community != self.instance.community or street != self.instance.street
        ):
            raise serializers.ValidationError(
                {"community": [_("A rule stays in the rule book it was written in.")]}
            )
        if (community is None) == (street is None):
            raise serializers.ValidationError(
                {
                    "community": [
                        _("Give either a community or a street (for its default rule book).")
                    ]
                }
            )
        # Versioned rule books (issue 15): a rule of an adopted version never changes; a new
        # rule goes to a draft of its book (points.services.rulebooks).
        if self.instance is not None:
            frozen = rulebooks_services.frozen_book(self.instance)
            if frozen is not None:
                raise serializers.ValidationError({"book": [adopted_rule_message(frozen)]})
            if "book" in attrs and attrs["book"] != self.instance.book:
                raise serializers.ValidationError(
                    {"book": [_("A rule stays in the rule book version it was written in.")]}
                )
        elif attrs.get("book") is not None:
            rulebooks_services.check_book_for_rule(
                book=attrs["book"], community=community, street=street
            )
        else:
            attrs["book"] = rulebooks_services.book_for_new_rule(community=community, street=street)
        book = current("book")
        code = current("code")
        same_code = Rule.objects.filter(code=code, community=community, street=street, book=book)
        if self.instance is not None:
            same_code = same_code.exclude(pk=self.instance.pk)
        if same_code.exists():
            raise serializers.ValidationError(
                {"code": [_("This rule book already has a rule with this code.")]}
            )
        points, up_to, cap = current("points"), current("up_to"), current("cap_per_quarter")
        if cap is not None and points is not None and not up_to and cap < points:
            raise serializers.ValidationError(
                {"cap_per_quarter": [_("The cap is below the rule's points: nobody could claim.")]}
            )
        return attrs


class RuleBookRuleSerializer(serializers.ModelSerializer):
    """A rule as one version of its book holds it."""

    class Meta:
        model = Rule
        fields = ["id", "code", "name", "category", "points", "up_to", "cap_per_quarter", "active"]
        read_only_fields = fields


class RuleBookSerializer(serializers.ModelSerializer):
    """A version of a community's (or a street's default) rule book, with its approval record
    and its rules. Read-only: versions are made and adopted in the admin."""

    rules = RuleBookRuleSerializer(many=True, read_only=True)
    attachment_url = serializers.SerializerMethodField(
        help_text="The meeting's resolution or minutes (the file), or null when none is attached."
    )
    in_force_today = serializers.SerializerMethodField(
        help_text="Whether this version is the one in force today."
    )

    class Meta:
        model = RuleBook
        fields = [
            "id",
            "community",
            "street",
            "version",
            "title",
            "status",
            "adopted_on",
            "adopted_by",
            "council",
            "attachment_url",
            "effective_from",
            "effective_to",
            "in_force_today",
            "note",
            "created_at",
            "rules",
        ]
        read_only_fields = fields

    def get_attachment_url(self, obj: RuleBook) -> str | None:
        if not obj.attachment:
            return None
        url = reverse("point-rule-book-attachment", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    def get_in_force_today(self, obj: RuleBook) -> bool:
        today = timezone.localdate()
        return (
            obj.status == RuleBook.Status.ADOPTED
            and obj.effective_from <= today
            and (obj.effective_to is None or obj.effective_to >= today)
        )


# ---------------------------------------------------------------------------- claims


class ClaimSerializer(serializers.ModelSerializer):
    points = serializers.IntegerField(
        min_value=1,
        max_value=MAX_POINTS,
        required=False,
        help_text="The rule's points; for an 'up to' rule, from 1 to its maximum. "
        "Defaults to the rule's points.",
    )
    occurred_on = serializers.DateField(required=False, help_text="Defaults to today.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    resident_name = serializers.CharField(source="resident.name", read_only=True)
    rule_name = serializers.CharField(source="rule.name", read_only=True)
    period = PeriodCodeField()
    approved_by = serializers.SerializerMethodField(
        help_text="Who approved the claim; null unless it is approved."
    )

    class Meta:
        model = Claim
        fields = [
            "id",
            "resident",
            "resident_name",
            "rule",
            "rule_name",
            "points",
            "occurred_on",
            "note",
            "period",
            "status",
            "likely_duplicate",
            "submitted_by",
            "submitted_at",
            "approved_by",
            "decided_by",
            "decided_at",
            "reject_reason",
        ]
        read_only_fields = [
            "status",
            "likely_duplicate",
            "submitted_by",
            "submitted_at",
            "decided_by",
            "decided_at",
            "reject_reason",
        ]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_approved_by(self, obj: Claim) -> int | None:
        return obj.decided_by_id if obj.status == Claim.Status.APPROVED else None

    def validate_occurred_on(self, value: dt.date) -> dt.date:
        if value < EARLIEST_CLAIM_DATE:
            raise serializers.ValidationError(_("The date is too far in the past."))
        return value


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=NOTE_MAX)


class ClaimIdsSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        allow_empty=False,
        max_length=MAX_BULK_IDS,
        help_text=f"Claim ids, at most {MAX_BULK_IDS:,}.",
    )


class BulkRejectSerializer(ClaimIdsSerializer):
    reason = serializers.CharField(max_length=NOTE_MAX)


class BulkApproveResultSerializer(serializers.Serializer):
    approved = serializers.IntegerField()
    skipped = serializers.IntegerField(
        help_text="Ids sent but not approved: unknown, outside your area, already decided, "
        "or submitted by you."
    )


class BulkRejectResultSerializer(serializers.Serializer):
    rejected = serializers.IntegerField()
    skipped = serializers.IntegerField()


# ---------------------------------------------------------------------------- ledger


class AccountSerializer(serializers.ModelSerializer):
    resident_name = serializers.SerializerMethodField(
        help_text="The resident's name; null on a household's account."
    )
    unit = serializers.SerializerMethodField(
        help_text="resident: a resident's own account; household: a household's shared account "
        "(以户为单位), seen and spent by its head and members."
    )
    holder_name = serializers.CharField(
        read_only=True, help_text="The resident, or for a household its head's name and 户."
    )
    balance = serializers.IntegerField(read_only=True, help_text="Exchange points (可兑换积分).")
    honour = serializers.IntegerField(
        read_only=True,
        help_text="Honour points (荣誉积分): what was earned, never spent, reset or expired.",
    )

    class Meta:
        model = Account
        fields = [
            "id",
            "resident",
            "resident_name",
            "household",
            "unit",
            "holder_name",
            "balance",
            "honour",
            "card_number",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_resident_name(self, obj: Account) -> str | None:
        return obj.resident.name if obj.resident is not None else None

    @extend_schema_field(serializers.ChoiceField(choices=Policy.AccountUnit.choices))
    def get_unit(self, obj: Account) -> str:
        return "household" if obj.is_household else "resident"


class EntrySerializer(serializers.ModelSerializer):
    period = PeriodCodeField()

    class Meta:
        model = Entry
        fields = [
            "id",
            "account",
            "seq",
            "amount",
            "kind",
            "period",
            "balance_after",
            "honour",
            "honour_after",
            "reverses",
            "created_at",
            "note",
        ]
        read_only_fields = fields


class MyEntrySerializer(EntrySerializer):
    """A line of my statement: with household accounts (以户为单位) the statement is the
    household's, and a line of a claim names the member it was for."""

    member = serializers.SerializerMethodField(
        help_text="The resident the claim behind the entry was for; null for other entries."
    )
    member_name = serializers.SerializerMethodField()

    class Meta(EntrySerializer.Meta):
        fields = [*EntrySerializer.Meta.fields, "member", "member_name"]
        read_only_fields = fields

    def _claim(self, obj: Entry) -> Claim | None:
        claim: Claim | None = self.context.get("claims", {}).get(obj.pk)
        return claim

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_member(self, obj: Entry) -> int | None:
        claim = self._claim(obj)
        return claim.resident_id if claim is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_member_name(self, obj: Entry) -> str | None:
        claim = self._claim(obj)
        return claim.resident.name if claim is not None else None


class PeriodSerializer(serializers.ModelSerializer):
    class Meta:
        model = Period
        fields = ["id", "code", "starts_on", "ends_on", "status"]
        read_only_fields = fields


# ---------------------------------------------------------------------------- objections


class ObjectionSerializer(serializers.ModelSerializer):
    reason = serializers.CharField(max_length=2000)

    class Meta:
        model = Objection
        fields = [
            "id",
            "entry",
            "reason",
            "status",
            "raised_by",
            "created_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "correction",
        ]
        read_only_fields = [
            "status",
            "raised_by",
            "created_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "correction",
        ]


class UpholdSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=NOTE_MAX)
    amount = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=-MAX_POINTS,
        max_value=MAX_POINTS,
        help_text="Post an adjustment of this many points; leave out to reverse the entry.",
    )


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=NOTE_MAX)


# ---------------------------------------------------------------------------- notice, ranking


class NoticeQuerySerializer(serializers.Serializer):
    grid = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The grid (required).")


class NoticeRowSerializer(serializers.Serializer):
    """One line of the public notice (季度公示): the name is always partly masked. Where the
    community counts per household (以户为单位) a line is a household (赵*名户)."""

    resident = serializers.IntegerField(
        source="id", help_text="The resident; on a household's line its head (or first member)."
    )
    household = serializers.IntegerField(source="household_id")
    per_household = serializers.BooleanField(help_text="The line is a household's.")
    name = serializers.SerializerMethodField()
    address = serializers.CharField(source="household.address")
    earned = serializers.IntegerField(help_text="Points earned in the quarter.")
    balance = serializers.IntegerField()

    def get_name(self, obj: Any) -> str:
        return notice_name(obj)


class NoticeSerializer(serializers.Serializer):
    period = serializers.CharField()
    grid = serializers.IntegerField()
    objection_deadline = serializers.DateField(
        help_text="The last day residents may object to an entry of the quarter."
    )
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = NoticeRowSerializer(many=True)


class RankingQuerySerializer(serializers.Serializer):
    community = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text="Defaults to your community when you have exactly one.",
    )
    year = serializers.IntegerField(
        min_value=2000, max_value=9999, required=False, help_text="Defaults to this year."
    )
    party_only = serializers.BooleanField(
        required=False, default=False, help_text="Rank party members only."
    )


class RankingRowSerializer(serializers.Serializer):
    """A row of the yearly ranking: a resident, or where the community counts per household
    (以户为单位) a household (the party members' ranking is always per person)."""

    rank = serializers.IntegerField(help_text="Ties share a rank.")
    top_three = serializers.SerializerMethodField(
        help_text="Ranked 1 to 3 with honour points earned in the year."
    )
    per_household = serializers.BooleanField(help_text="The row is a household.")
    resident = serializers.SerializerMethodField(help_text="The resident; null for a household.")
    household = serializers.IntegerField(source="household_id")
    name = serializers.SerializerMethodField(
        help_text="In full for the community's committee and street admins; masked otherwise. "
        "A household: its head's name and 户."
    )
    grid = serializers.IntegerField(source="household.grid_id")
    is_party_member = serializers.SerializerMethodField(help_text="Null for a household.")
    honour = serializers.IntegerField(
        help_text="Honour points (荣誉积分) earned in the year, transfers between units left out."
    )
    earned = serializers.IntegerField(source="honour", help_text="The same as honour.")

    def get_top_three(self, obj: Any) -> bool:
        return bool(obj.rank <= 3 and obj.honour > 0)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_resident(self, obj: Any) -> int | None:
        return None if obj.per_household else int(obj.pk)

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_is_party_member(self, obj: Any) -> bool | None:
        return None if obj.per_household else bool(obj.is_party_member)

    def get_name(self, obj: Any) -> str:
        name = obj.name if self.context.get("full_names") else mask_name(obj.name)
        return household_label(name) if obj.per_household else name


# ---------------------------------------------------------------------------- me


@extend_schema_serializer(many=False)
class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField(), help_text="Group names.")
    resident = serializers.IntegerField(allow_null=True)
    grid = serializers.IntegerField(allow_null=True)
    community = serializers.IntegerField(allow_null=True)
    balance = serializers.IntegerField(
        allow_null=True,
        help_text="Exchange points (可兑换积分) of my account: with household accounts "
        "(以户为单位), my household's.",
    )
    honour = serializers.IntegerField(
        allow_null=True, help_text="Honour points (荣誉积分) of the same account."
    )
    earned_this_quarter = serializers.IntegerField(allow_null=True)
    card_number = serializers.CharField(
        allow_null=True, help_text="Null until the resident's points account is opened."
    )
    account_unit = serializers.ChoiceField(
        choices=Policy.AccountUnit.choices,
        allow_null=True,
        help_text="household: points are counted per household (以户为单位); the head and every "
        "member see and spend the household's account.",
    )
    holder_name = serializers.CharField(
        allow_null=True, help_text="Whose account it is: me, or my household (its head and 户)."
    )


# ---------------------------------------------------------------------------- redemption

MAX_QUANTITY = 1000
MAX_ORDER_LINES = 50


class CatalogItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = CatalogItem
        fields = ["id", "community", "name", "points", "unit", "limit_per_quarter", "active"]
        extra_kwargs = {
            "points": {"min_value": 1, "max_value": MAX_POINTS},
            "limit_per_quarter": {"min_value": 1, "max_value": MAX_QUANTITY},
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        moved = "community" in attrs and attrs["community"] != getattr(
            self.instance, "community", attrs["community"]
        )
        if moved:
            raise serializers.ValidationError(
                {"community": [_("An item stays in the catalog it was added to.")]}
            )
        validated: dict[str, Any] = super().validate(attrs)
        return validated


class RedemptionWindowSerializer(serializers.ModelSerializer):
    period = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Period.objects.all(),
        help_text="The quarter's code, such as 2026Q4.",
    )

    class Meta:
        model = RedemptionWindow
        fields = [
            "id",
            "period",
            "community",
            "opens_on",
            "closes_on",
            "pickup_place",
            "pickup_time",
            "opened_by",
            "created_at",
        ]
        read_only_fields = ["opened_by", "created_at"]
        # One window per quarter and community: a second create moves the dates
        # (points.services.redemption.open_redemption), so DRF's unique-together check is left out.
        validators: list[Any] = []


class OrderLineInputSerializer(serializers.Serializer):
    item = serializers.PrimaryKeyRelatedField(queryset=CatalogItem.objects.all())
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class MyOrderCreateSerializer(serializers.Serializer):
    lines = OrderLineInputSerializer(  # type: ignore[call-arg]  # many=True: a ListSerializer
        many=True, allow_empty=False, max_length=MAX_ORDER_LINES
    )


class OrderCreateSerializer(MyOrderCreateSerializer):
    resident = serializers.PrimaryKeyRelatedField(queryset=Resident.objects.all())


class OrderLineSerializer(serializers.ModelSerializer):
    item_name = serializers.CharField(source="item.name", read_only=True)
    unit = serializers.CharField(source="item.unit", read_only=True)

    class Meta:
        model = OrderLine
        fields = ["item", "item_name", "unit", "quantity", "points"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    resident_name = serializers.CharField(source="resident.name", read_only=True)
    period = PeriodCodeField()
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "resident",
            "resident_name",
            "community",
            "period",
            "status",
            "total_points",
            "lines",
            "placed_by",
            "placed_at",
            "cancelled_at",
            "handed_over_at",
            "handed_over_by",
            "refunded_at",
        ]
        read_only_fields = fields


# ---------------------------------------------------------------------------- the close


class ClosingSerializer(serializers.ModelSerializer):
    """The progress of a quarter's close."""

    period = serializers.CharField(source="period.code", read_only=True)

    class Meta:
        model = Closing
        fields = [
            "period",
            "status",
            "communities_total",
            "communities_done",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


LIST_FORMATS = [("json", "JSON"), ("xlsx", "Excel (xlsx)"), ("html", "printable A4 page")]


class PurchaseListQuerySerializer(serializers.Serializer):
    community = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The community (required)."
    )
    format = serializers.ChoiceField(choices=LIST_FORMATS, required=False, default="json")


class DistributionListQuerySerializer(serializers.Serializer):
    grid = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The grid (required).")
    format = serializers.ChoiceField(choices=LIST_FORMATS, required=False, default="json")


class PurchaseRowSerializer(serializers.Serializer):
    item = serializers.CharField()
    unit = serializers.CharField()
    points = serializers.IntegerField(help_text="Points per unit.")
    quantity = serializers.IntegerField()
    points_total = serializers.IntegerField()


class PurchaseListSerializer(serializers.Serializer):
    period = serializers.CharField()
    community = serializers.IntegerField()
    lines = PurchaseRowSerializer(many=True)


class DistributionRowSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    resident = serializers.IntegerField()
    address = serializers.CharField()
    name = serializers.CharField()
    items = serializers.CharField()
    total_points = serializers.IntegerField()


class DistributionListSerializer(serializers.Serializer):
    period = serializers.CharField()
    grid = serializers.IntegerField()
    lines = DistributionRowSerializer(many=True)
