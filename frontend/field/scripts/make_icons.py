"""Draw the app's icons (public/icons/*.png, favicon.svg): a red tile with a white 3x3 grid and
the character 网. Run once with Pillow and a CJK font (fonts-noto-cjk); the PNGs are committed.

    ../../.venv/bin/python scripts/make_icons.py
"""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parent.parent / "public"
RED = (200, 22, 29)
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"


def tile(size: int, maskable: bool = False) -> Image.Image:
    img = Image.new("RGB" if maskable else "RGBA", (size, size), RED if maskable else (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if not maskable:
        d.rounded_rectangle([0, 0, size - 1, size - 1], radius=size // 5, fill=RED)
    # The safe zone of a maskable icon is the middle 80%.
    inner = size * (0.56 if maskable else 0.66)
    x0 = (size - inner) / 2
    y0 = x0 - size * 0.04
    line = max(2, size // 64)
    step = inner / 3
    for i in range(4):
        d.line([(x0 + i * step, y0), (x0 + i * step, y0 + inner)], fill=(226, 104, 108), width=line)
        d.line([(x0, y0 + i * step), (x0 + inner, y0 + i * step)], fill=(226, 104, 108), width=line)
    font = ImageFont.truetype(FONT, int(inner * 0.62), index=2)  # SC
    d.text((size / 2, y0 + inner / 2), "网", font=font, fill="white", anchor="mm")
    d.ellipse(
        [
            size / 2 - size * 0.035,
            y0 + inner + size * 0.04,
            size / 2 + size * 0.035,
            y0 + inner + size * 0.11,
        ],
        fill=(255, 214, 0),
    )
    return img


def main() -> None:
    (OUT / "icons").mkdir(parents=True, exist_ok=True)
    tile(192).save(OUT / "icons" / "icon-192.png", optimize=True)
    tile(512).save(OUT / "icons" / "icon-512.png", optimize=True)
    tile(512, maskable=True).save(OUT / "icons" / "icon-512-maskable.png", optimize=True)
    tile(180, maskable=True).save(OUT / "icons" / "apple-touch-icon.png", optimize=True)
    (OUT / "favicon.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
        '<rect width="64" height="64" rx="13" fill="#c8161d"/>'
        '<g stroke="#fff" stroke-opacity=".4" stroke-width="1.5" fill="none">'
        '<path d="M11 9h42v42H11zM25 9v42M39 9v42M11 23h42M11 37h42"/></g>'
        '<text x="32" y="42" font-size="30" text-anchor="middle" fill="#fff" '
        'font-family="sans-serif" font-weight="bold">网</text></svg>\n'
    )


if __name__ == "__main__":
    main()
