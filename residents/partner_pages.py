"""The partner contact's phone pages (共建单位, issue 16): the micro-wishes (微心愿) and needs
offered or assigned to their unit, claiming one (接单), starting it, reporting the result with
photos, and the unit's history.

Thin views over the services the API calls (residents.services.needs: claim_need, start_need,
add_need_photo, resolve_need), which decide who may and from which status. What a contact sees
is their units' needs only (selectors.partner_needs over core.scope's partner_unit_ids);
anything else answers 404. Forms POST with CSRF and redirect back (POST/redirect/GET); a
refused step comes back with the service's message in Chinese and what was typed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from rest_framework.exceptions import APIException

from core.scope import scope_for
from core.types import acting_user
from grids.models import PartnerUnit
from residents import selectors
from residents.models import Need
from residents.services import needs as needs_services

# The most photos one report takes (each up to NEED_PHOTO_MAX_BYTES, checked by the service).
MAX_PHOTOS = 6
HISTORY_SIZE = 30

S = Need.Status
# A step refused by its service: Django's or DRF's exceptions (the needs services raise DRF's).
REFUSALS = (DjangoValidationError, DjangoPermissionDenied, APIException)


def refusal_messages(error: Exception) -> list[str]:
    """The messages of a refused step, flattened, whichever kind of exception carried them."""
    if isinstance(error, DjangoValidationError):
        return [str(m) for m in error.messages]
    detail: Any = getattr(error, "detail", None)
    if detail is None:
        return [str(error) or _("Not allowed.")]
    out: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)
        else:
            out.append(str(value))

    walk(detail)
    return out


def _units(request: HttpRequest) -> frozenset[int]:
    return scope_for(request.user).partner_unit_ids


def _not_a_partner(request: HttpRequest) -> HttpResponse:
    return render(request, "residents/partner/not_a_partner.html", status=403)


def _need(request: HttpRequest, need_id: int) -> Need:
    """One of the contact's units' needs, else 404 (another unit's need reveals nothing)."""
    need = selectors.partner_needs(unit_ids=_units(request)).filter(pk=need_id).first()
    if need is None:
        raise Http404
    return need


def _check_perm(request: HttpRequest, codename: str) -> None:
    """The role's model permission, as the API's ActionPermissions asks it."""
    if not request.user.has_perm(f"residents.{codename}"):
        raise DjangoPermissionDenied(_("Your login may not do this."))


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The unit's list: offered to claim, in hand (assigned or in progress), and history."""
    units = _units(request)
    if not units:
        return _not_a_partner(request)
    needs = selectors.partner_needs(unit_ids=units)
    offered = needs.filter(status=S.ACCEPTED, assigned_partner__isnull=True).order_by(
        "due_on", "id"
    )
    in_hand = needs.filter(
        assigned_partner_id__in=units, status__in=(S.ASSIGNED, S.IN_PROGRESS)
    ).order_by("due_on", "id")
    history = (
        needs.filter(assigned_partner_id__in=units)
        .exclude(status__in=Need.OPEN_STATUSES)
        .order_by("-resolved_at", "-id")[:HISTORY_SIZE]
    )
    return render(
        request,
        "residents/partner/home.html",
        {
            "units": PartnerUnit.objects.filter(pk__in=units).order_by("name"),
            "offered": list(offered),
            "in_hand": list(in_hand),
            "history": list(history),
        },
    )


def _render_need(
    request: HttpRequest,
    need: Need,
    *,
    errors: list[str] | None = None,
    resolution: str = "",
    status: int = 200,
) -> HttpResponse:
    units = _units(request)
    return render(
        request,
        "residents/partner/need.html",
        {
            "need": need,
            "events": list(selectors.need_timeline(need=need)),
            "claim_units": [u for u in need.offered_to.all() if u.pk in units]
            if need.status == S.ACCEPTED
            else [],
            "may_work": need.assigned_partner_id in units,
            "errors": errors or [],
            "resolution": resolution,
            "max_photos": MAX_PHOTOS,
        },
        status=status,
    )


@login_required
def need_detail(request: HttpRequest, need_id: int) -> HttpResponse:
    if not _units(request):
        return _not_a_partner(request)
    return _render_need(request, _need(request, need_id))


def _back(need: Need) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("partners:need", args=[need.pk]))


@login_required
@require_POST
def claim(request: HttpRequest, need_id: int) -> HttpResponse:
    """接单: the service assigns the micro-wish to the unit (or refuses, e.g. another unit
    was first)."""
    need = _need(request, need_id)
    unit = None
    if unit_id := request.POST.get("unit", "").strip():
        unit = PartnerUnit.objects.filter(pk=unit_id if unit_id.isdigit() else 0).first()
    try:
        _check_perm(request, "claim_need")
        needs_services.claim_need(user=acting_user(request), need=need, partner_unit=unit)
    except REFUSALS as error:
        for message in refusal_messages(error):
            messages.error(request, message)
        # Claimed by another unit meanwhile: out of sight now, so back to the list.
        if not selectors.partner_needs(unit_ids=_units(request)).filter(pk=need.pk).exists():
            return HttpResponseRedirect(reverse("partners:home"))
    else:
        messages.success(request, _("Claimed: the micro-wish is your unit's now."))
    return _back(need)


@login_required
@require_POST
def start(request: HttpRequest, need_id: int) -> HttpResponse:
    need = _need(request, need_id)
    try:
        _check_perm(request, "start_need")
        needs_services.start_need(user=acting_user(request), need=need)
    except REFUSALS as error:
        for message in refusal_messages(error):
            messages.error(request, message)
    else:
        messages.success(request, _("Started: report the result when it is done."))
    return _back(need)


def _photos(request: HttpRequest) -> list[Any]:
    """The uploaded photos, each checked to be an image (as the API's ImageField does)."""
    files = [f for f in request.FILES.getlist("photos") if f.size]
    if len(files) > MAX_PHOTOS:
        raise DjangoValidationError(
            _("Send at most %(count)d photos at a time.") % {"count": MAX_PHOTOS}
        )
    field = forms.ImageField()
    for upload in files:
        try:
            field.clean(upload)
        except DjangoValidationError:
            raise DjangoValidationError(
                _("%(name)s is not a photo: send a JPEG or PNG picture.") % {"name": upload.name}
            ) from None
    return files


@login_required
@require_POST
def resolve(request: HttpRequest, need_id: int) -> HttpResponse:
    """Report the result (办结): how it was done, with photos. Photos and the step are one
    transaction: refused, nothing is kept and the form comes back with the text typed."""
    need = _need(request, need_id)
    resolution = request.POST.get("resolution", "")
    user = acting_user(request)
    try:
        _check_perm(request, "resolve_need")
        photos = _photos(request)
        if photos:
            _check_perm(request, "add_needphoto")
        with transaction.atomic():
            for photo in photos:
                needs_services.add_need_photo(user=user, need=need, image=photo)
            needs_services.resolve_need(user=user, need=need, resolution=resolution)
    except REFUSALS as error:
        errors = refusal_messages(error)
        need = _need(request, need_id)
        if need.status != S.IN_PROGRESS:
            # No form to come back to (sent twice, say): the messages, on the need's page.
            for message in errors:
                messages.error(request, message)
            return _back(need)
        if request.FILES:
            errors.append(_("Choose the photos again before sending."))
        return _render_need(request, need, errors=errors, resolution=resolution, status=400)
    messages.success(
        request,
        _("Reported as resolved with %(count)d photos. The resident will be asked to rate it.")
        % {"count": len(photos)},
    )
    return _back(need)
