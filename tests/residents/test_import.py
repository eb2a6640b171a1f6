"""Importing households and residents from xlsx/csv in the admin (django-import-export).

The admin flow is two POSTs: the file to the import page (a dry run that shows the preview, or
every bad row), then the confirm form to process_import.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import tablib
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from import_export.tmp_storages import CacheStorage

from core.masking import mask_id_number
from core.validators import make_id_number
from residents.admin.people import ResidentAdmin
from residents.models import Household, Resident
from residents.resources import CSV, XLSX, ResidentResource
from tests import factories as f

User = get_user_model()
SAMPLES = Path(__file__).resolve().parents[2] / "residents" / "samples"
IMPORT_URL = "admin:residents_resident_import"
PROCESS_URL = "admin:residents_resident_process_import"
FORMAT = {"csv": str(ResidentAdmin.import_formats.index(CSV)), "xlsx": "0"}
assert ResidentAdmin.import_formats.index(XLSX) == 0
HEADERS = [
    "社区编号", "网格编号", "小区", "楼栋", "单元", "房号", "村民组", "门牌号", "姓名", "性别",
    "出生日期", "身份证号", "电话", "党员", "标签", "户主",
]  # fmt: skip


@pytest.fixture
def demo(db):
    """The demo data (demo/seed.py), which the sample file is written for (built once per
    test process, copied in after that: tests/demo_snapshot.py)."""
    from tests.demo_snapshot import seed_demo

    seed_demo()
    return SimpleNamespace(
        admin=User.objects.get(username="admin"),  # the street's admin (a superuser)
        committee=User.objects.get(username="committee"),  # 新庄赵村 only
    )


def person(n: int, **cells: str) -> dict[str, str]:
    """A good row for the village 新庄赵村 (xzz), grid G1: resident number n."""
    born = dt.date(1960, 1, 1) + dt.timedelta(days=97 * n)
    row = {
        "社区编号": "xzz",
        "网格编号": "G1",
        "村民组": "六组",
        "门牌号": str(100 + n // 3),
        "姓名": f"测试{n}",
        "身份证号": make_id_number("411104", born, 2 * n + 1),
        "电话": f"1370395{n:04d}",
        "党员": "否",
        "户主": "是" if n % 3 == 0 else "否",
    }
    return row | cells


def with_wrong_check_digit(number: str) -> str:
    return number[:-1] + ("1" if number[-1] == "0" else "0")


def as_csv(rows: list[dict[str, str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADERS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def upload(client: Client, content: bytes, fmt: str = "csv") -> Any:
    """The first POST: the dry run. Returns the page with the preview or the errors."""
    upload = SimpleUploadedFile(f"residents.{fmt}", content)
    return client.post(
        reverse(IMPORT_URL), {"resource": "0", "format": FORMAT[fmt], "import_file": upload}
    )


def confirm(client: Client, preview: Any) -> Any:
    """The second POST: the confirm form of the preview page."""
    form = preview.context["confirm_form"]
    names = ("import_file_name", "original_file_name", "format", "resource")
    return client.post(reverse(PROCESS_URL), {name: form.initial[name] for name in names})


def import_file(client: Client, content: bytes, fmt: str = "csv") -> Any:
    preview = upload(client, content, fmt)
    assert preview.status_code == 200
    result = preview.context["result"]
    assert not result.has_errors() and not result.has_validation_errors(), errors_of(preview)
    response = confirm(client, preview)
    assert response.status_code == 302
    return response


def errors_of(preview: Any) -> dict[int, dict[str, list[str]]]:
    """Row number → column → messages, from the dry run's result."""
    result = preview.context["result"]
    assert not result.base_errors, [str(e.error) for e in result.base_errors]
    return {row.number: row.error_dict for row in result.invalid_rows}


def counts() -> tuple[int, int]:
    return Household.objects.count(), Resident.objects.count()


# ---------------------------------------------------------------------------- the sample


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_sample_file_imports_cleanly_into_the_demo_data(demo, staff_client, fmt):
    households, residents = counts()
    client = staff_client(demo.admin)
    response = import_file(client, (SAMPLES / f"import_sample.{fmt}").read_bytes(), fmt)
    assert response.url == reverse("admin:residents_resident_changelist")
    assert counts() == (households + 5, residents + 10)

    # Names repeat in a village: find the sample's people by their ID numbers.
    with (SAMPLES / "import_sample.csv").open(encoding="utf-8-sig") as f_:
        number = {row["姓名"]: row["身份证号"] for row in csv.DictReader(f_)}
    zhao = Resident.objects.get(id_number=number["赵建国"])
    home = zhao.household
    assert (home.grid.community.code, home.grid.code, home.address) == ("xzz", "G1", "一组58号")
    assert home.head == zhao
    assert zhao.is_party_member
    wang = Resident.objects.get(id_number=number["王桂兰"])  # no gender or birth date in the file
    assert (wang.household, wang.gender, wang.birth_date) == (home, "F", dt.date(1960, 7, 8))
    sun = Resident.objects.get(id_number=number["孙桂芝"])
    assert (sun.household.grid.community.code, sun.household.grid.code) == ("taishan", "R1")
    assert sun.household.address == "黄山小区5号楼1单元502"
    assert sorted(t.name for t in sun.tags.all()) == ["残疾人", "独居老人"]
    assert Resident.objects.get(id_number=number["赵秀珍"]).phone == "0395-2345678"


def test_the_demo_committee_cannot_import_the_sample_rows_of_another_community(demo, staff_client):
    before = counts()
    preview = upload(staff_client(demo.committee), (SAMPLES / "import_sample.csv").read_bytes())
    errors = errors_of(preview)
    assert set(errors) == {7, 8, 9, 10}  # the 泰山社区 rows
    assert errors[7] == {"网格编号": ["Grid “R1” of community “taishan” is outside your area."]}
    assert counts() == before


def test_the_import_page_links_to_the_sample_files(world, staff_client):
    client = staff_client(world.committee1)
    page = client.get(reverse(IMPORT_URL)).content.decode()
    for fmt in ("xlsx", "csv"):
        link = reverse("admin:residents_resident_import_sample", args=[fmt])
        assert link in page
        response = client.get(link)
        assert response.status_code == 200
        assert (
            b"".join(response.streaming_content) == (SAMPLES / f"import_sample.{fmt}").read_bytes()
        )


def test_the_sample_files_hold_the_same_rows():
    with (SAMPLES / "import_sample.csv").open(encoding="utf-8-sig") as f_:
        from_csv = [tuple(row) for row in csv.reader(f_)]
    xlsx = tablib.Dataset().load((SAMPLES / "import_sample.xlsx").read_bytes(), "xlsx")
    from_xlsx = [tuple(xlsx.headers)] + [tuple(c or "" for c in row) for row in xlsx]
    assert from_csv == from_xlsx
    assert len(from_csv) == 11


def test_a_csv_saved_by_excel_in_gb18030_imports(demo, staff_client):
    content = (SAMPLES / "import_sample.csv").read_text(encoding="utf-8-sig")
    _, residents = counts()
    import_file(staff_client(demo.admin), content.encode("gb18030"))
    assert Resident.objects.count() == residents + 10


def test_an_imported_resident_joins_an_existing_household_at_that_address(world, staff_client):
    home = world.household1
    address = {"小区": home.complex, "楼栋": home.building, "单元": home.unit, "房号": home.room}
    address |= {"村民组": home.village_group, "门牌号": home.house_number}
    row = person(1, 户主="否", **address)
    households, residents = counts()
    import_file(staff_client(world.committee1), as_csv([row]))
    assert counts() == (households, residents + 1)
    assert Resident.objects.get(name="测试1").household == world.household1


# ---------------------------------------------------------------------------- bad files


def test_a_file_with_bad_rows_lists_every_one_and_imports_nothing(world, staff_client):
    good = [person(n) for n in range(6)]
    born = dt.date(1970, 1, 1)  # in another community: ID numbers are unique everywhere
    registered = f.ResidentFactory(
        household=world.household3, birth_date=born, id_number=make_id_number("411103", born, 1)
    )
    rows = [
        good[0],
        person(10, 身份证号=with_wrong_check_digit(good[0]["身份证号"])),  # 2: check digit
        good[1],
        person(11, 网格编号="G9"),  # 4: no such grid
        person(12, 社区编号="wai"),  # 5: community 3, another street
        good[2],
        person(13, 身份证号=good[1]["身份证号"]),  # 7: same number as row 3
        person(14, 电话="12345"),  # 8: phone
        person(15, 出生日期="1999-01-01"),  # 9: not the ID's birth date
        person(16, 标签="不存在"),  # 10: unknown tag
        person(17, 身份证号=registered.id_number),  # 11: registered already
        person(18, 社区编号="nowhere"),  # 12: no such community
        good[3],
    ]
    before = counts()
    client = staff_client(world.committee1)
    preview = upload(client, as_csv(rows))
    assert preview.status_code == 200
    assert "confirm_form" not in preview.context
    errors = errors_of(preview)
    assert set(errors) == {2, 3, 4, 5, 7, 8, 9, 10, 11, 12}
    assert "check digit" in errors[2]["身份证号"][0]
    assert errors[3]["身份证号"] == ["The same ID number is on rows 3, 7."]
    assert errors[7]["身份证号"] == ["The same ID number is on rows 3, 7."]
    assert errors[4]["网格编号"] == ["Community “xzz” has no grid “G9”."]
    assert errors[5]["网格编号"] == ["Grid “G1” of community “wai” is outside your area."]
    assert list(errors[8]) == ["电话"]
    assert errors[9]["出生日期"] == ["The birth date does not match the ID number."]
    assert errors[10]["标签"] == ["Unknown tag: 不存在. Only existing tags can be given."]
    assert errors[11]["身份证号"] == ["A resident with this ID number is already registered."]
    assert errors[12]["社区编号"] == ["No community has the code “nowhere”."]
    page = preview.content.decode()
    for message in ("The same ID number is on rows 3, 7.", "is outside your area"):
        assert message in page
    assert counts() == before


def test_a_file_with_errors_is_not_left_in_temporary_storage(world, staff_client):
    def stored(name: str) -> bool:
        return cache.get(CacheStorage.CACHE_PREFIX + name) is not None

    client = staff_client(world.committee1)
    preview = upload(client, as_csv([person(1, 电话="12345")]))
    assert errors_of(preview)
    assert not stored(preview.context["form"].cleaned_data["import_file"].tmp_storage_name)
    # A good file stays until it is confirmed.
    preview = upload(client, as_csv([person(1)]))
    name = preview.context["confirm_form"].initial["import_file_name"]
    assert stored(name)
    confirm(client, preview)
    assert not stored(name)


def test_a_grid_outside_the_importers_area_is_refused_even_in_their_street(world, staff_client):
    # 泰山社区 is in the committee's street, but not their community.
    row = person(1, 社区编号="taishan", 网格编号="G1", 小区="黄山小区", 门牌号="")
    before = counts()
    errors = errors_of(upload(staff_client(world.committee1), as_csv([row])))
    assert errors[1]["网格编号"] == ["Grid “G1” of community “taishan” is outside your area."]
    assert counts() == before


def test_duplicate_id_numbers_within_the_file_are_both_reported(world, staff_client):
    rows = [person(1), person(2), person(3, 身份证号=person(1)["身份证号"].lower())]
    errors = errors_of(upload(staff_client(world.committee1), as_csv(rows)))
    assert set(errors) == {1, 3}
    assert errors[1]["身份证号"] == ["The same ID number is on rows 1, 3."]


def test_a_bad_check_digit_is_reported_on_its_row(world, staff_client):
    wrong = with_wrong_check_digit(person(1)["身份证号"])
    errors = errors_of(upload(staff_client(world.committee1), as_csv([person(1, 身份证号=wrong)])))
    assert errors == {
        1: {"身份证号": ["The check digit of this ID number is wrong; please check the number."]}
    }


def test_cells_in_the_wrong_form_are_reported_per_column(world, staff_client):
    row = person(1, 性别="M", 党员="yes", 户主="1", 出生日期="01/02/1960", 门牌号="", 村民组="")
    errors = errors_of(upload(staff_client(world.committee1), as_csv([row])))[1]
    assert errors["性别"] == ["Write 男 or 女."]
    assert errors["党员"] == ["Write 是 or 否."]
    assert errors["户主"] == ["Write 是 or 否."]
    assert errors["出生日期"] == ["Write the date as 1990-01-31."]
    assert errors["小区/门牌号"] == [
        "Give a housing complex (小区, urban) or a house number (门牌号, village)."
    ]


def test_two_heads_for_one_household_are_refused(world, staff_client):
    rows = [person(1, 门牌号="77", 户主="是"), person(2, 门牌号="77", 户主="是")]
    errors = errors_of(upload(staff_client(world.committee1), as_csv(rows)))
    assert errors[1]["户主"] == ["Rows 1, 2 all name a head of the same household."]


def test_a_file_without_a_required_column_is_refused_as_a_whole(world, staff_client):
    content = as_csv([person(1)]).decode().replace("身份证号", "证件号").encode()
    before = counts()
    preview = upload(staff_client(world.committee1), content)
    page = preview.content.decode()
    assert "The file has no column 身份证号" in page
    assert "Traceback" not in page
    assert "confirm_form" not in preview.context
    assert counts() == before


def test_the_preview_masks_id_numbers_for_a_user_who_may_not_see_them(world, staff_client):
    rows = [person(1), person(2, 身份证号=person(1)["身份证号"])]
    page = upload(staff_client(world.committee1), as_csv(rows[:1])).content.decode()
    assert mask_id_number(rows[0]["身份证号"]) in page
    assert rows[0]["身份证号"] not in page
    page = upload(staff_client(world.committee1), as_csv(rows)).content.decode()  # error table
    assert rows[0]["身份证号"] not in page


def test_data_changed_between_preview_and_confirm_imports_nothing(world, staff_client):
    rows = [person(1), person(2), person(3)]
    client = staff_client(world.committee1)
    preview = upload(client, as_csv(rows))
    assert "confirm_form" in preview.context
    # Meanwhile a colleague registers the second person by hand.
    f.ResidentFactory(household=world.household1, id_number=rows[1]["身份证号"])
    before = counts()
    response = confirm(client, preview)
    assert response.status_code == 302
    assert response.url == reverse(IMPORT_URL)
    assert counts() == before
    assert not Resident.objects.filter(name__in=["测试1", "测试3"]).exists()


def test_the_resource_itself_imports_all_or_nothing(world):
    dataset = tablib.Dataset(headers=HEADERS)
    for row in [person(1), person(2, 电话="12345"), person(3)]:
        dataset.append([row.get(h, "") for h in HEADERS])
    before = counts()
    result = ResidentResource(user=world.committee1).import_data(
        dataset, dry_run=False, user=world.committee1
    )
    assert result.has_validation_errors()
    assert counts() == before


def test_a_user_who_may_not_add_residents_has_no_import(world, staff_client):
    assert staff_client(world.resident_user).get(reverse(IMPORT_URL)).status_code == 403


def test_the_import_costs_the_same_number_of_queries_for_more_rows(world, staff_client):
    tag = f.TagFactory(name="独居老人")
    client = staff_client(world.committee1)

    def count(first: int, n: int) -> int:
        rows = [person(i, 标签=tag.name) for i in range(first, first + n)]
        with CaptureQueriesContext(connection) as queries:
            confirm(client, upload(client, as_csv(rows)))
        return len(queries)

    count(200, 1)  # warm the caches (content types for the admin log) before comparing
    few = count(0, 6)
    many = count(100, 60)
    assert Resident.objects.filter(name__startswith="测试").count() == 67
    assert many == few
