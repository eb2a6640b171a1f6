"""The public figures page of a community (`/public/<code>/`, issue 12): no login, opt-in per
community (`Community.public_page`), 404 otherwise.

What a community publishes: the needs received and resolved this quarter and this year, the
resolution and satisfaction rates (好评率), and links to the quarter's public notice (季度公示)
of each grid. Never a name, an address, a phone number or anything else about a person: the
figures are counts of the whole community, computed with reports.selectors.need_counts (the
same definitions and numbers as the reports API), and the page names only the community, its
street and its grids.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from grids.models import Community, Grid
from reports.selectors import NeedFigures, Quarter, _midnight, need_counts, quarter
from residents.models import Need


@dataclass(frozen=True)
class PublicFigures:
    label: str  # 2026Q4 or 2026
    starts_on: dt.date
    ends_on: dt.date
    figures: NeedFigures


def community_figures(*, community: Community, starts_on: dt.date, ends_on: dt.date) -> NeedFigures:
    """The needs figures of the whole community for a span of Beijing dates (one query)."""
    needs = Need.objects.filter(
        grid__community=community,
        created_at__gte=_midnight(starts_on),
        created_at__lt=_midnight(ends_on + dt.timedelta(days=1)),
    )
    rows = list(need_counts(needs, group_by="grid__community_id"))
    counts = {k: v for k, v in rows[0].items() if k != "grid__community_id"} if rows else {}
    return NeedFigures(id=community.pk, name=community.name, **counts)


def public_figures(*, community: Community, period: Quarter) -> list[PublicFigures]:
    year_start = dt.date(period.starts_on.year, 1, 1)
    year_end = dt.date(period.starts_on.year, 12, 31)
    return [
        PublicFigures(
            period.code,
            period.starts_on,
            period.ends_on,
            community_figures(
                community=community, starts_on=period.starts_on, ends_on=period.ends_on
            ),
        ),
        PublicFigures(
            str(period.starts_on.year),
            year_start,
            year_end,
            community_figures(community=community, starts_on=year_start, ends_on=year_end),
        ),
    ]


def notice_links(*, community: Community, period: Quarter) -> list[dict[str, Any]]:
    """The quarter's public notice of each grid (the notice page asks residents to log in)."""
    links = []
    for grid in Grid.objects.filter(community=community).order_by("code", "id"):
        try:
            url = reverse("points:notice", args=[period.code, grid.pk])
        except NoReverseMatch:  # the points pages not installed
            continue
        links.append({"grid": grid.name, "url": url})
    return links


@require_safe
@cache_control(public=True, max_age=300)
def community_page(request: HttpRequest, code: str) -> HttpResponse:
    community = (
        Community.objects.select_related("street").filter(code=code, public_page=True).first()
    )
    if community is None:
        raise Http404
    period = quarter()
    return render(
        request,
        "public/community.html",
        {
            "community": community,
            "period": period,
            "spans": public_figures(community=community, period=period),
            "notices": notice_links(community=community, period=period),
            "updated": timezone.localtime(),
        },
    )
