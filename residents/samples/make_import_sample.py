"""Write import_sample.csv and import_sample.xlsx beside this file.

    .venv/bin/python residents/samples/make_import_sample.py

The rows fit the demo data (demo/tables.py, `manage.py seed_demo`): village 新庄赵村 (community
code `xzz`, grids `G1` 一组 and `G2` 二组) and urban 泰山社区 (`taishan`, grid `R1`, 黄山小区),
at addresses the demo leaves free, so every row makes a new household. The tags 独居老人, 残疾人
and 退役军人 must exist (the demo has them). Import it as a user whose area holds both
communities (the demo `admin`); the demo `committee` (新庄赵村 only) sees the 泰山社区 rows
refused as outside its area. ID numbers are synthetic, with valid check digits; birth date
and gender are left empty on two rows to show that they are read from the number.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from core.validators import make_id_number

HERE = Path(__file__).resolve().parent
HEADERS = [
    "社区编号", "网格编号", "小区", "楼栋", "单元", "房号", "村民组", "门牌号", "姓名", "性别",
    "出生日期", "身份证号", "电话", "党员", "标签", "户主",
]  # fmt: skip

# One person a line, in the file's column order, except that the ID number is replaced by its
# 3-digit sequence (odd: a man, even: a woman). "-" is an empty cell; a birth date in brackets
# is left out of the file, to show that it is read from the ID number.
PEOPLE = """
xzz     G1 -        - - -   一组 58 赵建国 男 1958-03-12   011 13903951201  是 -                是
xzz     G1 -        - - -   一组 58 王桂兰 -  (1960-07-08) 022 13903951202  否 -                否
xzz     G1 -        - - -   一组 58 赵鹏   男 1985-11-20   031 15839501203  否 -                否
xzz     G1 -        - - -   一组 61 赵秀珍 女 1940-02-02   042 0395-2345678 否 独居老人         是
xzz     G2 -        - - -   二组 45 赵德胜 男 1952-09-30   053 13703951106  是 退役军人         是
xzz     G2 -        - - -   二组 45 李凤霞 女 (1955-04-18) 064 -            否 残疾人           否
taishan R1 黄山小区 3 2 301 -    -  陈志强 男 1978-06-15   075 13837501301  是 -                是
taishan R1 黄山小区 3 2 301 -    -  刘燕   女 1980-12-03   086 13837501302  否 -                否
taishan R1 黄山小区 3 2 301 -    -  陈子涵 女 2012-08-21   098 -            否 -                否
taishan R1 黄山小区 5 1 502 -    -  孙桂芝 女 1938-01-25   102 13937501502  否 独居老人、残疾人 是
"""
# The first six digits of the ID number (行政区划代码), as in the demo data.
REGION = {"xzz": "411104", "taishan": "411103"}
BIRTH_DATE = HEADERS.index("出生日期")
ID_NUMBER = HEADERS.index("身份证号")


def rows() -> list[list[str]]:
    out = []
    for line in PEOPLE.strip().splitlines():
        cells = ["" if cell == "-" else cell for cell in line.split()]
        born = cells[BIRTH_DATE]
        hidden = born.startswith("(")
        born = born.strip("()")
        region = REGION[cells[0]]
        cells[ID_NUMBER] = make_id_number(
            region, dt.date.fromisoformat(born), int(cells[ID_NUMBER])
        )
        cells[BIRTH_DATE] = "" if hidden else born
        out.append(cells)
    return out


def main() -> None:
    data = rows()
    # UTF-8 with a byte-order mark, so that Excel opens it with the Chinese intact.
    with (HERE / "import_sample.csv").open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADERS)
        writer.writerows(data)

    book = Workbook()
    sheet = book.worksheets[0]  # a new workbook's one sheet, the active one
    sheet.title = "居民"
    sheet.append(HEADERS)
    for row in data:
        sheet.append(row)  # every cell a string: ID numbers and phones stay exact text
    widths = [9, 9, 10, 6, 6, 6, 8, 8, 8, 6, 12, 21, 14, 6, 18, 6]
    for column, width in zip("ABCDEFGHIJKLMNOP", widths, strict=True):
        sheet.column_dimensions[column].width = width
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    book.save(HERE / "import_sample.xlsx")


if __name__ == "__main__":
    main()
