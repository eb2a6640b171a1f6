"""Admin for volunteers: teams with their roster and activities inline, activities with their
sign-ups and attendance inline (read-only: members sign up and check in on their phones, the
leader records attendance through the API), partner organisations.

Scoped through core.admin like every admin of the product. Activities are saved and marked
done through volunteers.services (the capacity moves the waitlist; completion claims points
once), never by a bare ModelForm save.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.admin import (
    ScopedAdminMixin,
    ScopedModelAdmin,
    ScopedRelatedFilter,
    field_names,
    scoped_queryset,
)
from core.admin_delete import DeleteThroughServiceMixin
from core.scope import scope_for
from core.types import User, acting_user
from residents.models import Resident
from volunteers import access
from volunteers.models import Activity, Attendance, Membership, PartnerOrganisation, Signup, Team
from volunteers.services import activities as activities_services
from volunteers.services import teams as teams_services


class MembershipFormSet(forms.BaseInlineFormSet):
    """The team's roster in the admin, held to the rules of volunteers.services: a member is
    a resident of the team's community, the leader is the committee's choice, a login is the
    resident's own unless the committee links one (`teams_services.check_login`). Checked here, so
    a refusal comes back as a form error; saved through the services by
    `TeamAdmin.save_formset`."""

    request_user: User  # set by the admin's get_form / get_formset

    def _refuse(self, form: forms.BaseForm, exc: ValidationError | PermissionDenied) -> None:
        if isinstance(exc, PermissionDenied):
            form.add_error("role", str(exc))
            return
        if not hasattr(exc, "error_dict"):
            form.add_error(None, exc)
            return
        for field, errors in exc.error_dict.items():
            name = "user" if field == "login" else field
            form.add_error(name if name in form.fields else None, errors)

    def clean(self) -> None:
        super().clean()
        team = self.instance
        if team.community_id is None:  # the team's own form is refused already
            return
        if team.pk is not None and not access.may_manage_team(self.request_user, team):
            return  # refused by the team's own form (TeamForm.clean)
        new_leaders = 0
        for form in self.forms:
            # Django's own test of the DELETE box (private, so not in the stubs).
            deleted = self._should_delete_form(form)  # type: ignore[attr-defined]
            if not form.has_changed() or deleted or not form.is_valid():
                continue
            data = form.cleaned_data
            try:
                if form.instance.pk is None:
                    teams_services.check_resident(team, data["resident"])
                    if data.get("role") == Membership.Role.LEADER:
                        teams_services.ensure_may_choose_leader(self.request_user, team)
                        new_leaders += bool(data.get("active"))
                    teams_services.check_login(
                        user=self.request_user,
                        team=team,
                        resident=data["resident"],
                        login=data.get("user"),
                    )
                    continue
                stored = Membership.objects.select_related("team__community", "resident").get(
                    pk=form.instance.pk
                )
                if data["resident"] != stored.resident:
                    form.add_error(
                        "resident",
                        _("A membership stays with its resident: add the other one as a member."),
                    )
                    continue
                fields = member_changes(form)
                teams_services.check_member_change(
                    user=self.request_user, membership=stored, fields=fields
                )
                new_leaders += teams_services.becomes_leader(stored, fields)
            except (ValidationError, PermissionDenied) as exc:
                self._refuse(form, exc)
        if new_leaders > 1:
            raise ValidationError(_("A team has one leader: name one."))


MEMBER_FIELDS = ("user", "joined_on", "role", "active")


def member_changes(form: forms.BaseForm) -> dict[str, Any]:
    """The fields of a roster row that `teams_services.update_member` changes, as changed (the
    row's `user` is the member's login)."""
    return {
        ("login" if name == "user" else name): form.cleaned_data[name]
        for name in form.changed_data
        if name in MEMBER_FIELDS
    }


class MembershipInline(ScopedAdminMixin, admin.TabularInline):
    model = Membership
    formset = MembershipFormSet
    fields = ["resident", "user", "joined_on", "role", "active"]
    autocomplete_fields = ["resident"]
    raw_id_fields = ["user"]
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("resident")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "resident" and "queryset" not in kwargs:
            # A team's leader sees no residents (core.scope), but does see the residents on
            # their team's roster: those stay valid choices, so their rows can be saved.
            seen = scoped_queryset(Resident, request.user).values("pk")
            on_roster = Q(volunteer_memberships__team_id__in=scope_for(request.user).team_ids)
            kwargs["queryset"] = Resident.objects.filter(Q(pk__in=seen) | on_roster).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = cast(type[MembershipFormSet], super().get_formset(request, obj, **kwargs))
        formset.request_user = acting_user(request)
        return formset


class ActivityInline(ScopedAdminMixin, admin.TabularInline):
    model = Activity
    fields = ["title", "starts_at", "ends_at", "place", "capacity", "status"]
    readonly_fields = field_names(fields)
    show_change_link = True
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TeamForm(forms.ModelForm):
    request_user: User  # set by the admin's get_form / get_formset

    class Meta:
        model = Team
        fields = ["community", "name", "kind", "description", "hours_rule"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        team = self.instance
        if team.pk is not None and not access.may_manage_team(self.request_user, team):
            raise ValidationError(
                gettext("Only the team's leader or the community's committee manages this team.")
            )
        community = cleaned.get("community") if team.pk is None else team.community
        if community is None:
            return cleaned
        if team.pk is None and not access.may_manage_community(self.request_user, community):
            self.add_error(
                "community",
                gettext("Only the committee of the community or the street admin writes here."),
            )
        if "hours_rule" in self.fields:
            teams_services.check_hours_rule(community, cleaned.get("hours_rule"))
        return cleaned


@admin.register(Team)
class TeamAdmin(DeleteThroughServiceMixin, ScopedModelAdmin):
    """Teams are saved through volunteers.services (create_team, update_team) and their roster
    through add_member / update_member. The hours rule is the committee's: read-only for a
    team's leader; a team stays in its community."""

    form = TeamForm
    list_display = ["name", "community", "kind", "leader_name", "hours_rule"]
    list_filter = [("community", ScopedRelatedFilter), "kind"]
    list_select_related = ["community", "hours_rule"]
    search_fields = ["name"]
    fields = ["community", "name", "kind", "description", "hours_rule"]
    inlines = [MembershipInline, ActivityInline]

    @admin.display(description=_("leader"))
    def leader_name(self, obj: Team) -> str:
        leader = obj.leader
        return leader.resident.name if leader else "—"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly.append("community")
            if not access.may_manage_community(request.user, obj.community):
                readonly.append("hours_rule")
        return readonly

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = cast(type[TeamForm], super().get_form(request, obj, change, **kwargs))
        form.request_user = acting_user(request)
        return form

    def save_model(self, request: HttpRequest, obj: Team, form: Any, change: bool) -> None:
        # The form checked what the services would refuse.
        if change:
            data = {name: form.cleaned_data[name] for name in form.changed_data}
            saved = teams_services.update_team(
                user=acting_user(request), team=Team.objects.get(pk=obj.pk), **data
            )
        else:
            saved = teams_services.create_team(user=acting_user(request), **form.cleaned_data)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def delete_through_service(self, request: HttpRequest, obj: Team) -> None:
        teams_services.delete_team(user=acting_user(request), team=obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        # The formset checked what the services would refuse (MembershipFormSet.clean); the
        # whole page is saved in one transaction, so a late refusal leaves nothing half-saved.
        team = formset.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        deleted = formset.deleted_forms if formset.can_delete else []
        for row in deleted:
            if row.instance.pk is not None:
                formset.deleted_objects.append(row.instance)
                teams_services.remove_member(user=acting_user(request), membership=row.instance)
        for row in formset.forms:
            if row in deleted or not row.has_changed():
                continue
            data = row.cleaned_data
            if row.instance.pk is None:
                membership = teams_services.add_member(
                    user=acting_user(request),
                    team=team,
                    resident=data["resident"],
                    joined_on=data["joined_on"],
                    role=data["role"],
                    login=data["user"],
                )
                if not data["active"]:
                    membership = teams_services.update_member(
                        user=acting_user(request), membership=membership, active=False
                    )
                formset.new_objects.append(membership)
            else:
                changes = member_changes(row)
                membership = teams_services.update_member(
                    user=acting_user(request),
                    membership=Membership.objects.get(pk=row.instance.pk),
                    **changes,
                )
                formset.changed_objects.append((membership, list(changes)))


class SignupInline(ScopedAdminMixin, admin.TabularInline):
    model = Signup
    fields = ["membership", "status", "created_at", "withdrawn_at"]
    readonly_fields = field_names(fields)
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Signup]:
        return super().get_queryset(request).select_related("membership__resident")


class AttendanceInline(ScopedAdminMixin, admin.TabularInline):
    model = Attendance
    fields = [
        "membership", "checked_in_at", "checked_out_at", "hours", "recorded_by", "claim",
        "points_note",
    ]  # fmt: skip
    readonly_fields = field_names(fields)
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Attendance]:
        return super().get_queryset(request).select_related("membership__resident", "claim")


class ActivityForm(forms.ModelForm):
    class Meta:
        model = Activity
        fields = ["team", "title", "starts_at", "ends_at", "place", "capacity", "description"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        activity = self.instance
        if activity.pk is None:
            return cleaned
        if activity.status != Activity.Status.PLANNED:
            raise ValidationError(_("Only a planned activity can be changed."))
        if cleaned.get("team") is not None and cleaned["team"].pk != activity.team_id:
            self.add_error("team", _("An activity stays with the team that holds it."))
        confirmed = activity.signups.filter(status=Signup.Status.CONFIRMED).count()
        if cleaned.get("capacity") is not None and cleaned["capacity"] < confirmed:
            self.add_error(
                "capacity",
                _("%(count)d members are confirmed: the capacity cannot go below that.")
                % {"count": confirmed},
            )
        return cleaned


@admin.register(Activity)
class ActivityAdmin(DeleteThroughServiceMixin, ScopedModelAdmin):
    form = ActivityForm
    list_display = ["title", "team", "starts_at", "place", "capacity", "status", "qr_code"]
    list_filter = [
        ("team__community", ScopedRelatedFilter),
        ("team", ScopedRelatedFilter),
        "status",
    ]
    list_select_related = ["team"]
    date_hierarchy = "starts_at"
    search_fields = ["title", "place"]
    fields = [
        "team", "title", "starts_at", "ends_at", "place", "capacity", "description", "status",
        "completed_at", "completed_by",
    ]  # fmt: skip
    readonly_fields = ["status", "completed_at", "completed_by"]
    inlines = [SignupInline, AttendanceInline]
    actions = ["mark_done"]

    @admin.display(description=_("QR code"))
    def qr_code(self, obj: Activity) -> str:
        return format_html(
            '<a href="{}" target="_blank">{}</a>',
            reverse("volunteers:activity_qr", args=[obj.pk]),
            gettext("print"),
        )

    def save_model(self, request: HttpRequest, obj: Activity, form: Any, change: bool) -> None:
        # The form checked what the services would refuse; they move the waitlist up.
        if change:
            data = {name: form.cleaned_data[name] for name in form.changed_data if name != "team"}
            saved = activities_services.update_activity(
                user=acting_user(request), activity=Activity.objects.get(pk=obj.pk), **data
            )
        else:
            saved = activities_services.create_activity(
                user=acting_user(request), **form.cleaned_data
            )
        obj.pk = saved.pk
        obj.refresh_from_db()

    def delete_through_service(self, request: HttpRequest, obj: Activity) -> None:
        activities_services.delete_activity(user=acting_user(request), activity=obj)

    @admin.action(
        description=_("Mark the selected activities done (claims points for the hours)"),
        permissions=["change"],
    )
    def mark_done(self, request: HttpRequest, queryset: QuerySet[Activity]) -> None:
        done, refused = 0, []
        for activity in queryset.order_by("id"):
            if activity.status == Activity.Status.DONE:
                continue
            try:
                activities_services.complete_activity(user=acting_user(request), activity=activity)
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                refused.append(
                    f"{activity.title}: {' '.join(getattr(exc, 'messages', [str(exc)]))}"
                )
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(count)d activity marked done.", "%(count)d activities marked done.", done
                )
                % {"count": done},
                messages.SUCCESS,
            )
        for text in refused:
            self.message_user(request, text, messages.WARNING)


@admin.register(PartnerOrganisation)
class PartnerOrganisationAdmin(DeleteThroughServiceMixin, ScopedModelAdmin):
    list_display = ["name", "community", "service", "contact_name", "contact_phone", "active"]
    list_filter = [("community", ScopedRelatedFilter), "active"]
    list_select_related = ["community"]
    search_fields = ["name", "service"]

    def save_model(
        self, request: HttpRequest, obj: PartnerOrganisation, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        teams_services.list_in_resources(organisation=obj)

    def delete_through_service(self, request: HttpRequest, obj: PartnerOrganisation) -> None:
        teams_services.delete_partner_organisation(user=acting_user(request), organisation=obj)
