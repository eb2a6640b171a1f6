"""The shape of the field bundle, for the OpenAPI schema (the view writes plain data built by
field.selectors; these serializers document it)."""

from __future__ import annotations

from rest_framework import serializers

from residents.serializers import DueVisitSerializer


class FieldCommunityRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class FieldMeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField(help_text="worker, leader or committee")
    can_approve = serializers.BooleanField(help_text="May approve and reject claims (审批).")
    community = FieldCommunityRefSerializer(allow_null=True)


class FieldGridSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    community = serializers.IntegerField()
    community_name = serializers.CharField()


class FieldTagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    visit_every_days = serializers.IntegerField(allow_null=True)


class FieldHouseholdSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    grid = serializers.IntegerField()
    address = serializers.CharField()
    head = serializers.IntegerField(allow_null=True)
    phone = serializers.CharField(help_text="The head of household's phone, or empty.")
    balance = serializers.IntegerField(
        allow_null=True,
        help_text="Exchange points of the household: its members' accounts added up, or where "
        "the community counts per household (以户为单位) its shared account's; null with no "
        "account.",
    )
    honour = serializers.IntegerField(
        allow_null=True, help_text="Honour points (荣誉积分), added up the same way."
    )
    card_number = serializers.CharField(
        allow_null=True,
        help_text="The household's card (以户为单位); null where points are counted per resident.",
    )


class FieldResidentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    household = serializers.IntegerField()
    name = serializers.CharField()
    gender = serializers.CharField()
    age = serializers.IntegerField()
    id_number = serializers.CharField(help_text="Always masked (411103********123X).")
    phone = serializers.CharField()
    tags = serializers.ListField(child=serializers.IntegerField())
    card_number = serializers.CharField(allow_null=True)
    balance = serializers.IntegerField(
        allow_null=True,
        help_text="The resident's own exchange points; null with no account, or where the "
        "community counts per household (the household's balance is shown instead).",
    )
    honour = serializers.IntegerField(allow_null=True, help_text="Honour points, as balance.")
    is_party_member = serializers.BooleanField()


class FieldVisitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    household = serializers.IntegerField()
    visited_at = serializers.DateTimeField()
    method = serializers.CharField()
    notes = serializers.CharField()
    follow_up_on = serializers.DateField(allow_null=True)
    worker_name = serializers.CharField()


class FieldNeedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    grid = serializers.IntegerField()
    household = serializers.IntegerField(allow_null=True)
    resident = serializers.IntegerField(allow_null=True)
    title = serializers.CharField()
    text = serializers.CharField()
    category = serializers.CharField()
    category_label = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    priority = serializers.IntegerField()
    due_on = serializers.DateField(allow_null=True)
    overdue = serializers.BooleanField()
    assigned_to_me = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class FieldRuleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    category = serializers.CharField()
    points = serializers.IntegerField()
    max_points = serializers.IntegerField(
        allow_null=True, help_text="Set for an 'up to' rule: any amount from 1 to this."
    )
    cap_per_period = serializers.IntegerField(allow_null=True)
    community = serializers.IntegerField(allow_null=True)


class FieldCapUsedSerializer(serializers.Serializer):
    resident = serializers.IntegerField()
    rule = serializers.IntegerField()
    points = serializers.IntegerField(help_text="Submitted and approved this quarter.")


class FieldRejectedClaimSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    resident = serializers.IntegerField()
    resident_name = serializers.CharField()
    rule = serializers.IntegerField()
    rule_name = serializers.CharField()
    points = serializers.IntegerField()
    occurred_on = serializers.DateField()
    reason = serializers.CharField()
    decided_at = serializers.DateTimeField()


class FieldChoicesSerializer(serializers.Serializer):
    visit_methods = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="[value, label] pairs.",
    )
    need_categories = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="[value, label] pairs.",
    )


class FieldCurrentIdsSerializer(serializers.Serializer):
    households = serializers.ListField(child=serializers.IntegerField())
    residents = serializers.ListField(child=serializers.IntegerField())
    visits = serializers.ListField(child=serializers.IntegerField())
    needs = serializers.ListField(child=serializers.IntegerField())


class FieldBundleSerializer(serializers.Serializer):
    version = serializers.CharField(help_text="Pass back as ?since= (also the ETag).")
    full = serializers.BooleanField(help_text="False when only changes since ?since= are sent.")
    today = serializers.DateField(help_text="Beijing date on the server.")
    period = serializers.CharField(help_text="The quarter, e.g. 2026Q4.")
    me = FieldMeSerializer()
    grids = FieldGridSerializer(many=True)
    tags = FieldTagSerializer(many=True)
    households = FieldHouseholdSerializer(many=True)
    residents = FieldResidentSerializer(many=True)
    due = DueVisitSerializer(many=True)
    visits = FieldVisitSerializer(many=True, help_text="The last 3 of each household.")
    follow_ups = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Visits whose follow-up date has come, with no later visit to the household.",
    )
    needs = FieldNeedSerializer(many=True)
    rules = FieldRuleSerializer(many=True)
    cap_used = FieldCapUsedSerializer(many=True)
    claims_rejected = FieldRejectedClaimSerializer(many=True)
    choices = FieldChoicesSerializer()
    current = FieldCurrentIdsSerializer(
        required=False,
        help_text=(
            "With ?since= only: the ids now in the working set; the app drops the others "
            "(deleted, closed, or moved out of the area)."
        ),
    )
