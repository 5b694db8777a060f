"""Clean page content for the synthetic soiled-page generator.

Renders what a document carries *before* it gets dirty: printed text (headings, paragraphs,
lists, forms, tables) with office-document margins and line spacing, and what people add by
hand (handwriting-like pen strokes, signatures, stamps, underlines, highlighter). Every
element has its own ink tone; the page is the minimum over all layers of
``1 - coverage * (1 - tone)``, with paper exactly 1.0.

Only numpy and Pillow are used, so the app and the tests can import this module cheaply.
Fonts are Pillow's built-in scalable font (``ImageFont.load_default(size=...)``, Pillow >= 10.1)
plus any TrueType/OpenType fonts found under ``/usr/share/fonts``; nothing is downloaded and
no font package is required.
"""

from __future__ import annotations

import functools
import glob
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "DEEP_INK_KINDS",
    "PageCanvas",
    "available_fonts",
    "check_deep_kinds",
    "deep_ink",
    "render_clean_page",
]

_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")
_SKIP_FONT_WORDS = (
    "math",
    "symbol",
    "emoji",
    "dingbat",
    "wingding",
    "icon",
    "awesome",
    "braille",
    "d050000l",
    "standardsymbols",
    "fallback",
    "extralight",
    "z003",
)

_WORDS = (
    "the of and to in is that for it as was with be by on not he this are or his from at which "
    "but have an they you were her she there one all we their has been would more if will can "
    "when who so no said what up its about into than them only other new some could time these "
    "two may first then do any like my now over such our man me even most made after also did "
    "many before must through back years where much your way well down should because each "
    "just those people how too little state good very make world still own see men work long "
    "get here between both life being under never day same another know while last might us "
    "great old year off come since against go came right used take three report office paper "
    "document scanner filter image noise method network model training data sample result "
    "figure table section invoice payment account customer order delivery contract agreement "
    "meeting schedule budget review project manager department company address number total "
    "amount date signature received approved please note following attached enclosed letter "
    "request information regarding period quarter annual policy service support client "
    "available required process system value level control quality standard average median "
    "opening closing filter pixel median smoothing background foreground stain printed "
    "handwritten database corpus sentence language reason acquisition forms fields rulers"
).split()

_STAMP_WORDS = (
    "RECEIVED",
    "APPROVED",
    "PAID",
    "COPY",
    "CONFIDENTIAL",
    "DRAFT",
    "URGENT",
    "FILED",
    "ORIGINAL",
    "CHECKED",
    "ENTERED",
    "VOID",
)
_MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()

#: Thick ink :func:`deep_ink` draws: felt-tip marker writing, bold display type, solid bars
#: (thick rules, redaction bars) and filled blots (logos, inked stamp pads).
DEEP_INK_KINDS = ("marker", "display", "bar", "blot")


@functools.lru_cache(maxsize=1)
def available_fonts() -> tuple[str, ...]:
    """Scalable font files usable for Latin text, found without any download.

    Returns
    -------
    tuple of str
        Sorted paths of ``.ttf``/``.otf`` files under ``/usr/share/fonts`` and
        ``/usr/local/share/fonts`` (math, symbol and emoji fonts skipped). Empty when no font
        package is installed; the generator then uses Pillow's built-in font alone.
    """
    found: list[str] = []
    for root in _FONT_DIRS:
        for ext in ("ttf", "otf", "TTF", "OTF"):
            found.extend(glob.glob(os.path.join(root, "**", f"*.{ext}"), recursive=True))
    good = []
    for path in sorted(set(found)):
        name = os.path.basename(path).lower()
        if any(w in name for w in _SKIP_FONT_WORDS):
            continue
        try:
            font = ImageFont.truetype(path, 20)
            box = font.getbbox("Hag")
            # a font without Latin letters draws the same box for every glyph
            glyphs = {bytes(font.getmask(ch)) for ch in "aHg19"}
        except (OSError, ValueError):
            continue
        if box[2] - box[0] > 10 and box[3] - box[1] > 8 and len(glyphs) == 5:
            good.append(path)
    return tuple(good)


@functools.lru_cache(maxsize=512)
def _font(path: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    size = max(4, int(size))
    if path is None:
        try:
            return ImageFont.load_default(size=size)
        except TypeError:  # Pillow < 10.1: bitmap font only
            return ImageFont.load_default()
    try:
        return ImageFont.truetype(path, size)
    except OSError:
        return _font(None, size)


def _font_style(path: str | None) -> str:
    """'bold', 'italic', 'bolditalic' or 'regular' from the file name."""
    if path is None:
        return "regular"
    n = os.path.basename(path).lower()
    bold = "bold" in n or "black" in n or "heavy" in n
    ital = "italic" in n or "oblique" in n
    return ("bold" if bold else "") + ("italic" if ital else "") or "regular"


def _family(path: str | None) -> str:
    if path is None:
        return "pillow-default"
    n = os.path.basename(path).lower().rsplit(".", 1)[0]
    for w in ("-bolditalic", "-boldoblique", "-bold", "-italic", "-oblique", "-regular", "-book"):
        n = n.replace(w, "")
    return n


class PageCanvas:
    """Ink layers of one page, each a coverage map with its own grey tone.

    Parameters
    ----------
    width, height : int
        Page size in px.

    Notes
    -----
    Layers are keyed by a name; ``compose()`` returns the clean page
    ``min over layers of 1 - coverage * (1 - tone)``, (H, W) float32 in [0, 1], paper = 1.0.
    """

    def __init__(self, width: int, height: int) -> None:
        self.width = int(width)
        self.height = int(height)
        self._layers: dict[str, tuple[Image.Image, float]] = {}
        self._float_layers: list[tuple[np.ndarray, float]] = []

    def layer(self, name: str, tone: float) -> ImageDraw.ImageDraw:
        """An ``ImageDraw`` on the coverage image of layer *name* (created with *tone*)."""
        if name not in self._layers:
            self._layers[name] = (Image.new("L", (self.width, self.height), 0), float(tone))
        return ImageDraw.Draw(self._layers[name][0])

    def layer_image(self, name: str, tone: float) -> Image.Image:
        """The 8-bit coverage image of layer *name* (0 = none, 255 = full ink)."""
        self.layer(name, tone)
        return self._layers[name][0]

    def add_float(self, coverage: np.ndarray, tone: float) -> None:
        """Add a full-page float coverage layer, (H, W) float32 in [0, 1]."""
        self._float_layers.append((coverage.astype(np.float32), float(tone)))

    def compose(self) -> np.ndarray:
        """The clean page, (H, W) float32 in [0, 1] with paper exactly 1.0."""
        page = np.ones((self.height, self.width), np.float32)
        items = [(np.asarray(im, np.float32) / 255.0, t) for im, t in self._layers.values()]
        items += self._float_layers
        for cov, tone in items:
            np.minimum(page, 1.0 - cov * (1.0 - tone), out=page)
        return np.clip(page, 0.0, 1.0)


# --------------------------------------------------------------------------- text


def _sentence(rng: np.random.Generator, n: int | None = None) -> list[str]:
    n = int(rng.integers(5, 18)) if n is None else n
    words = [str(_WORDS[i]) for i in rng.integers(0, len(_WORDS), n)]
    words[0] = words[0].capitalize()
    for i in range(1, n - 1):
        r = rng.random()
        if r < 0.07:
            words[i] += ","
        elif r < 0.10:
            words[i] = str(int(rng.integers(1, 2000)))
        elif r < 0.13:
            words[i] = words[i].capitalize()
        elif r < 0.14:
            words[i] = "(" + words[i] + ")"
    words[-1] += "." if rng.random() < 0.9 else rng.choice([":", ";", "?"])
    return words


def _words(rng: np.random.Generator, n: int) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        out.extend(_sentence(rng))
    return out[:n]


class _Fonts:
    """Font choice for one page: a body family plus bold/italic variants when present."""

    def __init__(self, rng: np.random.Generator) -> None:
        fonts = available_fonts()
        families: dict[str, dict[str, str | None]] = {"pillow-default": {"regular": None}}
        for p in fonts:
            families.setdefault(_family(p), {})[_font_style(p)] = p
        families = {k: v for k, v in families.items() if "regular" in v}
        names = sorted(families)
        # the built-in font weighs as much as a whole installed family
        self.body = families[names[int(rng.integers(0, len(names)))]]
        self.head = (
            families[names[int(rng.integers(0, len(names)))]] if rng.random() < 0.5 else self.body
        )
        if rng.random() < 0.2 and "italic" in self.body:
            self.body = {"regular": self.body["italic"], **self.body}

    def get(self, size: float, style: str = "regular", heading: bool = False):
        fam = self.head if heading else self.body
        path = fam.get(style, fam["regular"])
        return _font(path, int(round(size)))


def _line_height(font) -> int:
    try:
        a, d = font.getmetrics()
        return int(a + d)
    except AttributeError:
        return int(font.getbbox("Hg")[3]) + 2


def _text_length(font, text: str) -> float:
    try:
        return float(font.getlength(text))
    except AttributeError:
        b = font.getbbox(text)
        return float(b[2] - b[0])


class _Layout:
    """Flows blocks of text down a page; records text lines for annotations."""

    def __init__(self, rng, canvas: PageCanvas, dpi: float, crop: bool, tone: float, fonts: _Fonts):
        self.rng = rng
        self.canvas = canvas
        self.dpi = dpi
        self.tone = tone
        self.fonts = fonts
        W, H = canvas.width, canvas.height
        pt = float(rng.choice([9, 10, 10, 11, 11, 12, 12, 12, 13, 14]))
        self.body_px = pt * dpi / 72.0
        self.spacing = float(rng.uniform(1.05, 1.6))
        if crop:
            # a piece of a bigger page: text may run off any edge
            self.left = (
                float(rng.uniform(-0.3, 0.08)) * W
                if rng.random() < 0.4
                else float(rng.uniform(0.005, 0.06)) * W
            )
            self.right = (
                W + float(rng.uniform(0.0, 0.8)) * W
                if rng.random() < 0.7
                else W * float(rng.uniform(0.9, 0.98))
            )
            self.y = (
                -float(rng.uniform(0.0, 1.0)) * self.body_px * self.spacing * (rng.random() < 0.6)
            )
            self.y += float(rng.uniform(0.0, 0.05)) * H
        else:
            margin = min(dpi * float(rng.uniform(0.6, 1.2)), 0.12 * W)
            self.left = margin
            self.right = W - margin * float(rng.uniform(0.8, 1.2))
            self.y = min(dpi * float(rng.uniform(0.5, 1.1)), 0.1 * H)
        self.bottom = H + self.body_px
        self.lines: list[tuple[float, float, float, float]] = []  # x0, y_top, x1, y_base
        self.rules: list[tuple[float, float, float]] = []  # x0, x1, y (form fields)
        self.draw = canvas.layer("print", tone)

    def _draw_words(self, words, font, x0, x1, justify, indent=0.0):
        lh = _line_height(font) * self.spacing
        space = _text_length(font, " ")
        i = 0
        first = True
        while i < len(words) and self.y < self.bottom:
            xs = x0 + (indent if first else 0.0)
            width = x1 - xs
            line: list[tuple[str, float]] = []
            used = 0.0
            while i < len(words):
                w = words[i]
                wl = _text_length(font, w)
                need = wl + (space if line else 0.0)
                if line and used + need > width:
                    break
                line.append((w, wl))
                used += need
                i += 1
            last = i >= len(words)
            gap = space
            if justify and not last and len(line) > 1:
                gap = space + (width - used) / (len(line) - 1)
            x = xs
            for w, wl in line:
                self.draw.text((x, self.y), w, fill=255, font=font)
                x += wl + gap
            asc = font.getbbox("H")
            self.lines.append((xs, self.y + asc[1], x - gap, self.y + asc[3]))
            self.y += lh
            first = False

    def paragraph(self):
        n = int(self.rng.integers(15, 90))
        font = self.fonts.get(self.body_px)
        indent = self.body_px * 2 if self.rng.random() < 0.5 else 0.0
        self._draw_words(
            _words(self.rng, n), font, self.left, self.right, self.rng.random() < 0.5, indent
        )
        self.y += self.body_px * self.spacing * float(self.rng.uniform(0.0, 0.8))

    def heading(self):
        size = self.body_px * float(self.rng.uniform(1.2, 2.2))
        style = "bold" if self.rng.random() < 0.8 else "regular"
        font = self.fonts.get(size, style, heading=True)
        words = _sentence(self.rng, int(self.rng.integers(1, 7)))
        words[-1] = words[-1].rstrip(".:;?")
        if self.rng.random() < 0.3:
            words = [w.upper() for w in words]
        if self.rng.random() < 0.4:
            words.insert(0, f"{int(self.rng.integers(1, 9))}.")
        self.y += self.body_px * float(self.rng.uniform(0.3, 1.0))
        self._draw_words(words, font, self.left, self.right, False)
        self.y += self.body_px * float(self.rng.uniform(0.2, 0.6))

    def bullet_list(self):
        font = self.fonts.get(self.body_px)
        numbered = self.rng.random() < 0.5
        for k in range(int(self.rng.integers(2, 6))):
            if self.y >= self.bottom:
                break
            mark = f"{k + 1}." if numbered else str(self.rng.choice(["-", "*", "o"]))
            self.draw.text((self.left + self.body_px, self.y), mark, fill=255, font=font)
            self._draw_words(
                _words(self.rng, int(self.rng.integers(4, 25))),
                font,
                self.left + self.body_px * 2.5,
                self.right,
                False,
            )
        self.y += self.body_px * 0.5

    def form(self):
        font = self.fonts.get(self.body_px)
        lw = max(1, int(round(self.dpi / 150)))
        for _ in range(int(self.rng.integers(2, 6))):
            if self.y >= self.bottom:
                break
            label = (
                " ".join(_sentence(self.rng, int(self.rng.integers(1, 3))))
                .rstrip(".:;?")
                .capitalize()
                + ":"
            )
            self.draw.text((self.left, self.y), label, fill=255, font=font)
            x0 = self.left + _text_length(font, label) + self.body_px * 0.5
            x1 = min(self.right, x0 + self.body_px * float(self.rng.uniform(8, 30)))
            yb = self.y + font.getbbox("H")[3] + lw
            if self.rng.random() < 0.5:
                self.draw.line([(x0, yb), (x1, yb)], fill=255, width=lw)
            else:  # dotted leader
                step = self.body_px * 0.35
                for xx in np.arange(x0, x1, step):
                    self.draw.ellipse([xx, yb - lw, xx + lw * 1.5, yb + lw * 0.5], fill=255)
            self.rules.append((x0, x1, yb))
            self.y += _line_height(font) * self.spacing * 1.6

    def table(self):
        font = self.fonts.get(self.body_px * float(self.rng.uniform(0.85, 1.0)))
        cols = int(self.rng.integers(2, 6))
        rows = int(self.rng.integers(2, 7))
        lw = max(1, int(round(self.dpi / 150)))
        rh = _line_height(font) * 1.5
        xs = np.linspace(self.left, self.right, cols + 1)
        top = self.y
        grid = self.rng.random() < 0.6
        for r in range(rows):
            if self.y >= self.bottom:
                break
            for c in range(cols):
                txt = (
                    " ".join(_sentence(self.rng, int(self.rng.integers(1, 3)))).rstrip(".")
                    if c == 0 or r == 0
                    else f"{self.rng.uniform(0, 9999):.2f}"
                )
                ff = self.fonts.get(font.size, "bold") if r == 0 and hasattr(font, "size") else font
                cell = xs[c + 1] - xs[c] - self.body_px * 0.6
                while " " in txt and _text_length(ff, txt) > cell:
                    txt = txt.rsplit(" ", 1)[0]
                if _text_length(ff, txt) > cell:
                    continue
                self.draw.text(
                    (xs[c] + self.body_px * 0.3, self.y + rh * 0.15), txt, fill=255, font=ff
                )
            if grid or r == 0:
                self.draw.line([(xs[0], self.y + rh), (xs[-1], self.y + rh)], fill=255, width=lw)
            self.y += rh
        if grid:
            self.draw.line([(xs[0], top), (xs[-1], top)], fill=255, width=lw)
            for x in xs:
                self.draw.line([(x, top), (x, self.y)], fill=255, width=lw)
        self.y += self.body_px

    def fill(self):
        kinds = ["paragraph", "heading", "list", "form", "table"]
        weights = np.array([0.55, 0.15, 0.1, 0.1, 0.1])
        if self.rng.random() < 0.4:
            self.heading()
        while self.y < self.bottom:
            k = kinds[int(self.rng.choice(len(kinds), p=weights))]
            {
                "paragraph": self.paragraph,
                "heading": self.heading,
                "list": self.bullet_list,
                "form": self.form,
                "table": self.table,
            }[k]()
            if self.rng.random() < 0.08:
                self.y += self.body_px * float(self.rng.uniform(2, 8))  # white space


# --------------------------------------------------------------------------- pen strokes


def _smooth_noise_1d(rng: np.random.Generator, n: int, knots: int) -> np.ndarray:
    k = rng.standard_normal(max(2, knots))
    return np.interp(np.linspace(0, len(k) - 1, n), np.arange(len(k)), k)


def _catmull_rom(points: np.ndarray, per_seg: int = 8) -> np.ndarray:
    """Dense points of a Catmull-Rom spline through *points* ((N, 2) float)."""
    if len(points) < 2:
        return points
    p = np.vstack([points[:1], points, points[-1:]])
    t = np.linspace(0, 1, per_seg, endpoint=False)[:, None]
    t2, t3 = t * t, t * t * t
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(
            0.5
            * (
                2 * p1
                + (-p0 + p2) * t
                + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2
                + (-p0 + 3 * p1 - 3 * p2 + p3) * t3
            )
        )
    out.append(points[-1:])
    return np.vstack(out)


class _Pen:
    """Draws smooth strokes of varying width, supersampled for anti-aliasing."""

    SS = 3  # supersampling factor

    def __init__(self, canvas: PageCanvas, name: str, tone: float):
        self.canvas = canvas
        self.name = name
        self.tone = tone

    def strokes(self, rng, paths: list[np.ndarray], width: float, pressure: float = 0.4) -> None:
        """Draw *paths* (each (N, 2) px) with mean pen *width* px."""
        pts = [p for p in paths if len(p) >= 2]
        if not pts:
            return
        allp = np.vstack(pts)
        pad = width * 2 + 2
        x0, y0 = np.floor(allp.min(0) - pad).astype(int)
        x1, y1 = np.ceil(allp.max(0) + pad).astype(int)
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, self.canvas.width), min(y1, self.canvas.height)
        if x1 <= x0 or y1 <= y0:
            return
        s = self.SS
        patch = Image.new("L", ((x1 - x0) * s, (y1 - y0) * s), 0)
        d = ImageDraw.Draw(patch)
        for p in pts:
            q = (p - [x0, y0]) * s
            n = len(q)
            wv = (
                width
                * s
                * np.clip(1.0 + pressure * _smooth_noise_1d(rng, n, max(2, n // 12)), 0.35, 2.0)
            )
            step = 4
            for i in range(0, n - 1, step):
                seg = q[i : i + step + 1]
                w = max(1, int(round(wv[i])))
                d.line([tuple(v) for v in seg], fill=255, width=w, joint="curve")
                r = w / 2.0
                a, b = seg[0]
                d.ellipse([a - r, b - r, a + r, b + r], fill=255)
        small = patch.resize((x1 - x0, y1 - y0), Image.BOX)
        layer = self.canvas.layer_image(self.name, self.tone)
        region = layer.crop((x0, y0, x1, y1))
        merged = Image.fromarray(np.maximum(np.asarray(region), np.asarray(small)))
        layer.paste(merged, (x0, y0))


def _handwritten_word(rng, x: float, baseline: float, xh: float, n_letters: int, slant: float):
    """Control points of a cursive-looking word; returns (points (N, 2), end x)."""
    pts = []
    cx = x
    for _ in range(n_letters):
        kind = rng.random()
        w = xh * float(rng.uniform(0.45, 0.9))
        if kind < 0.2:  # ascender loop
            pts += [
                (cx, baseline),
                (cx + w * 0.5, baseline - xh * 2.0),
                (cx + w * 0.2, baseline - xh * 1.6),
                (cx + w * 0.3, baseline),
            ]
        elif kind < 0.3:  # descender loop
            pts += [
                (cx, baseline - xh * 0.9),
                (cx + w * 0.4, baseline + xh * 0.9),
                (cx + w * 0.1, baseline + xh * 0.6),
                (cx + w * 0.5, baseline - xh * 0.1),
            ]
        elif kind < 0.65:  # arch (n, m)
            pts += [
                (cx, baseline),
                (cx + w * 0.3, baseline - xh),
                (cx + w * 0.7, baseline - xh * 0.9),
                (cx + w, baseline),
            ]
        else:  # bowl (a, o, e)
            pts += [
                (cx + w * 0.8, baseline - xh * 0.9),
                (cx + w * 0.2, baseline - xh * 0.8),
                (cx + w * 0.1, baseline - xh * 0.1),
                (cx + w * 0.8, baseline - xh * 0.2),
                (cx + w, baseline),
            ]
        cx += w * float(rng.uniform(0.9, 1.2))
    p = np.asarray(pts, float)
    p += rng.normal(0, xh * 0.08, p.shape)
    p[:, 0] -= (p[:, 1] - baseline) * slant
    return _catmull_rom(p, 6), cx


def handwriting(
    rng, pen: _Pen, x: float, baseline: float, xh: float, width_px: float, max_x: float
) -> float:
    """Write a line of pseudo-cursive words from *x* to at most *max_x*; returns end x."""
    slant = float(rng.uniform(-0.1, 0.45))
    drift = float(rng.uniform(-0.04, 0.04))
    paths = []
    x0 = x
    while x < max_x - xh * 2:
        n = int(rng.integers(2, 9))
        b = baseline + (x - x0) * drift + float(rng.normal(0, xh * 0.1))
        path, xe = _handwritten_word(rng, x, b, xh, n, slant)
        if xe > max_x:
            break
        paths.append(path)
        if rng.random() < 0.15:  # i-dot or t-bar
            k = float(rng.uniform(x, xe))
            paths.append(np.array([[k, b - xh * 1.5], [k + xh * 0.5, b - xh * 1.55]]))
        x = xe + xh * float(rng.uniform(0.7, 1.5))
        if rng.random() < 0.12:
            break
    pen.strokes(rng, paths, width_px)
    return x


def signature(rng, pen: _Pen, cx: float, cy: float, size: float, width_px: float) -> None:
    """A signature: a few large flourishes, loops and an underline stroke."""
    xh = size * float(rng.uniform(0.12, 0.2))
    slant = float(rng.uniform(0.2, 0.6))
    x = cx - size * 0.5
    paths = []
    for _ in range(int(rng.integers(1, 3))):
        # a big capital loop, then a quick run of small letters
        cap = np.array(
            [
                [x, cy],
                [x + xh * 0.3, cy - xh * 2.8],
                [x - xh * 0.6, cy - xh * 1.6],
                [x + xh * 1.2, cy - xh * 0.5],
                [x + xh * 0.8, cy],
            ]
        )
        cap += rng.normal(0, xh * 0.15, cap.shape)
        cap[:, 0] -= (cap[:, 1] - cy) * slant
        word, x = _handwritten_word(rng, x + xh * 0.8, cy, xh * 0.8, int(rng.integers(3, 8)), slant)
        paths.append(np.vstack([_catmull_rom(cap, 8), word]))
        x += xh * 1.2
    if rng.random() < 0.8:
        a = np.array(
            [
                [cx - size * 0.55, cy + xh * 0.8],
                [cx, cy + xh * float(rng.uniform(0.5, 1.5))],
                [x + xh, cy + xh * 0.2],
            ]
        )
        paths.append(_catmull_rom(a, 14))
    pen.strokes(rng, paths, width_px, pressure=0.5)


def _stamp(
    rng, canvas: PageCanvas, fonts: _Fonts, cx: float, cy: float, size: float, tone: float
) -> None:
    """A rubber stamp (circle or rectangle with text), rotated, with uneven ink."""
    s = int(max(16, size))
    lw = max(1, int(round(size * float(rng.uniform(0.015, 0.035)))))
    word = str(rng.choice(_STAMP_WORDS))
    date = f"{int(rng.integers(1, 29)):02d} {rng.choice(_MONTHS)} {int(rng.integers(1990, 2026))}"
    if rng.random() < 0.5:
        im = Image.new("L", (s, s), 0)
        d = ImageDraw.Draw(im)
        d.ellipse([lw, lw, s - lw, s - lw], outline=255, width=lw)
        g = int(s * 0.08)
        d.ellipse([g, g, s - g, s - g], outline=255, width=max(1, lw // 2))
        f = fonts.get(s * 0.13, "bold")
        tw = _text_length(f, word)
        if tw > s * 0.75:
            f = fonts.get(s * 0.13 * s * 0.75 / tw, "bold")
            tw = _text_length(f, word)
        d.text(((s - tw) / 2, s * 0.32), word, fill=255, font=f)
        f2 = fonts.get(s * 0.09)
        d.text(((s - _text_length(f2, date)) / 2, s * 0.55), date, fill=255, font=f2)
    else:
        f = fonts.get(size * 0.22, "bold")
        tw = _text_length(f, word)
        w = int(tw + size * 0.3)
        h = int(size * 0.5 if rng.random() < 0.5 else size * 0.7)
        im = Image.new("L", (w, h), 0)
        d = ImageDraw.Draw(im)
        d.rectangle([lw, lw, w - lw, h - lw], outline=255, width=lw)
        if rng.random() < 0.5:
            g = lw * 3
            d.rectangle([g, g, w - g, h - g], outline=255, width=max(1, lw // 2))
        d.text(((w - tw) / 2, h * 0.12), word, fill=255, font=f)
        if h > size * 0.6:
            f2 = fonts.get(size * 0.12)
            d.text(((w - _text_length(f2, date)) / 2, h * 0.6), date, fill=255, font=f2)
    im = im.rotate(float(rng.uniform(-30, 30)), resample=Image.BICUBIC, expand=True)
    cov = np.asarray(im, np.float32) / 255.0
    # uneven stamp ink: blotchy coverage (part of the stamp as printed, kept in the target)
    hh, ww = cov.shape
    g = rng.random((max(2, hh // max(2, lw * 2)), max(2, ww // max(2, lw * 2)))).astype(np.float32)
    g = np.asarray(Image.fromarray(g, "F").resize((ww, hh), Image.BICUBIC))
    cov = cov * np.clip(0.55 + 0.6 * g, 0.2, 1.0)
    x0, y0 = int(cx - ww / 2), int(cy - hh / 2)
    full = np.zeros((canvas.height, canvas.width), np.float32)
    xa, ya = max(0, x0), max(0, y0)
    xb, yb = min(canvas.width, x0 + ww), min(canvas.height, y0 + hh)
    if xb <= xa or yb <= ya:
        return
    full[ya:yb, xa:xb] = cov[ya - y0 : yb - y0, xa - x0 : xb - x0]
    canvas.add_float(full, tone)


def _pen_tone(rng, tones: tuple[float, float] | None = None) -> float:
    """Grey level of a pen in a grey scan: black, blue, brown, grey or faint (0.0 - 0.6).

    With *tones* ``(lo, hi)`` every pen is drawn in that range instead (e.g. pencil for a
    test set); the generator draws as many numbers either way, so the rest of the page
    stays the same.
    """
    r = rng.random()
    if tones is not None:
        return float(rng.uniform(*tones))
    if r < 0.35:
        return float(rng.uniform(0.0, 0.15))  # black
    if r < 0.75:
        return float(rng.uniform(0.15, 0.4))  # blue / brown
    return float(rng.uniform(0.4, 0.6))  # pencil, faint


def _annotate(
    rng,
    canvas: PageCanvas,
    layout: _Layout,
    fonts: _Fonts,
    dpi: float,
    pen_tones: tuple[float, float] | None = None,
) -> list[str]:
    """Add handwriting, signatures, stamps, underlines and highlighter; returns kinds used."""
    W, H = canvas.width, canvas.height
    used: list[str] = []
    pen_w = max(0.8, dpi * float(rng.uniform(0.004, 0.012)))  # 0.1 - 0.3 mm ball point
    pen = _Pen(canvas, "pen", _pen_tone(rng, pen_tones))
    pen2 = _Pen(canvas, "pen2", _pen_tone(rng, pen_tones))
    xh = layout.body_px * float(rng.uniform(0.45, 0.8))
    if layout.rules and rng.random() < 0.8:  # fill in form fields
        for x0, x1, yb in layout.rules:
            if rng.random() < 0.8:
                handwriting(rng, pen, x0 + xh, yb - pen_w * 2, xh, pen_w, x1)
        used.append("handwriting")
    if rng.random() < 0.35:  # notes in a margin or over a gap
        y = float(rng.uniform(0.05, 0.9)) * H
        x = float(rng.uniform(0.0, 0.5)) * W
        for _ in range(int(rng.integers(1, 4))):
            handwriting(
                rng,
                pen2,
                x,
                y,
                xh * float(rng.uniform(0.9, 1.5)),
                pen_w,
                min(W, x + W * float(rng.uniform(0.2, 0.7))),
            )
            y += xh * 4
        used.append("handwriting")
    if rng.random() < 0.25:
        signature(
            rng,
            pen,
            float(rng.uniform(0.2, 0.8)) * W,
            float(rng.uniform(0.3, 0.95)) * H,
            layout.body_px * float(rng.uniform(4, 9)),
            pen_w * 1.2,
        )
        used.append("signature")
    lines = layout.lines
    if lines and rng.random() < 0.3:
        for _ in range(int(rng.integers(1, 4))):
            x0, yt, x1, yb = lines[int(rng.integers(0, len(lines)))]
            xa = float(rng.uniform(x0, (x0 + x1) / 2))
            xb = float(rng.uniform((xa + x1) / 2, x1 + 1))
            y = yb + layout.body_px * 0.25
            n = max(3, int((xb - xa) / max(4.0, layout.body_px)))
            p = np.c_[np.linspace(xa, xb, n), y + rng.normal(0, layout.body_px * 0.06, n)]
            p[:, 1] += np.linspace(0, float(rng.normal(0, layout.body_px * 0.15)), n)
            pen.strokes(rng, [_catmull_rom(p, 6)], pen_w * 1.2, pressure=0.2)
        used.append("underline")
    if lines and rng.random() < 0.25:
        tone = float(rng.uniform(0.72, 0.92))
        hl = np.zeros((H, W), np.float32)
        for _ in range(int(rng.integers(1, 4))):
            x0, yt, x1, yb = lines[int(rng.integers(0, len(lines)))]
            xa = float(rng.uniform(x0, (x0 + x1) / 2))
            xb = float(rng.uniform((xa + x1) / 2, x1 + 1))
            h = (yb - yt) * float(rng.uniform(1.3, 1.8))
            ya = int(max(0, (yt + yb) / 2 - h / 2))
            yb2 = int(min(H, (yt + yb) / 2 + h / 2))
            xa_i, xb_i = int(max(0, xa)), int(min(W, xb))
            if xb_i > xa_i and yb2 > ya:
                band = np.ones((yb2 - ya, xb_i - xa_i), np.float32)
                band *= np.clip(0.85 + 0.15 * rng.random((1, xb_i - xa_i)), 0, 1)  # streaky
                hl[ya:yb2, xa_i:xb_i] = np.maximum(hl[ya:yb2, xa_i:xb_i], band)
        canvas.add_float(hl, tone)
        used.append("highlighter")
    if rng.random() < 0.2:
        _stamp(
            rng,
            canvas,
            fonts,
            float(rng.uniform(0.1, 0.9)) * W,
            float(rng.uniform(0.1, 0.9)) * H,
            layout.body_px * float(rng.uniform(5, 10)),
            float(rng.uniform(0.3, 0.6)),
        )
        used.append("stamp")
    return used


def check_deep_kinds(kinds) -> None:
    """ValueError unless *kinds* is a non-empty choice from :data:`DEEP_INK_KINDS`."""
    unknown = [k for k in kinds if k not in DEEP_INK_KINDS]
    if unknown or not kinds:
        raise ValueError(
            f"thick ink kinds must be some of {', '.join(DEEP_INK_KINDS)}, got {list(kinds)}"
        )


def deep_ink(
    rng: np.random.Generator,
    width: int,
    height: int,
    dpi: float,
    pen_tones: tuple[float, float] | None = None,
    kinds: tuple[str, ...] = DEEP_INK_KINDS,
) -> tuple[np.ndarray, list[str]]:
    """One to three items of thick ink, as a page of their own to lay over a clean page.

    Rendered body text is 9-14 pt, so at 100-300 dpi almost no ink pixel lies more than
    4 px from the paper; at 600 dpi bold headings and stamps reach 8-16 px and more, and
    a cleaner that sees too little such ink lightens the inside of thick strokes. This
    draws ink whose inside is far from any paper, sized in mm so it is thick at every DPI.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness (same state, same marks).
    width, height : int
        Page size in px.
    dpi : float
        Scanning resolution in dots per inch (sets the size of every item).
    pen_tones : (float, float), optional
        Grey-level range of the marker pen, as for the other pens; by default black, blue,
        brown or faint.
    kinds : tuple of str
        The kinds to draw from (default all of :data:`DEEP_INK_KINDS`); each item is one of
        them at random.

    Returns
    -------
    marks : (H, W) float32 in [0, 1]
        1.0 = paper; lay it over a clean page with ``numpy.minimum``.
    drawn : list of str
        The kinds drawn, each once, in the order first drawn:
        ``"marker"`` (felt-tip writing, 0.8-2.5 mm wide), ``"display"`` (bold type,
        20-72 pt), ``"bar"`` (a solid bar 0.6-8 mm high: thick rule or redaction bar),
        ``"blot"`` (a filled 5-20 mm disc or block, sometimes with paper-white letters).

    Raises
    ------
    ValueError
        If *kinds* is empty or names a kind not in :data:`DEEP_INK_KINDS`.
    """
    check_deep_kinds(kinds)
    canvas = PageCanvas(width, height)
    fonts = _Fonts(rng)
    mm = dpi / 25.4
    W, H = canvas.width, canvas.height
    used: list[str] = []
    for n in range(int(rng.integers(1, 4))):
        kind = str(kinds[int(rng.integers(len(kinds)))])
        x = float(rng.uniform(-0.1, 0.8)) * W
        y = float(rng.uniform(0.05, 0.95)) * H
        if kind == "marker":
            pen = _Pen(canvas, f"marker{n}", _pen_tone(rng, pen_tones))
            width_px = mm * float(rng.uniform(0.8, 2.5))
            xh = max(width_px * 3.5, mm * float(rng.uniform(3.0, 8.0)))
            for _ in range(int(rng.integers(1, 3))):
                handwriting(
                    rng, pen, x, y, xh, width_px, min(W, x + W * float(rng.uniform(0.3, 0.9)))
                )
                y += xh * 3.5
        elif kind == "display":
            font = fonts.get(dpi / 72.0 * float(rng.uniform(20.0, 72.0)), "bold", heading=True)
            words = _sentence(rng, int(rng.integers(1, 4)))
            words[-1] = words[-1].rstrip(".:;?")
            text = " ".join(words).upper() if rng.random() < 0.5 else " ".join(words)
            canvas.layer(f"display{n}", _print_tone(rng)).text((x, y), text, fill=255, font=font)
        elif kind == "bar":
            tone = float(rng.uniform(0.0, 0.15)) if rng.random() < 0.6 else _print_tone(rng)
            h = mm * float(rng.uniform(0.6, 8.0))
            w = mm * float(rng.uniform(15.0, 150.0))
            canvas.layer(f"bar{n}", tone).rectangle([x, y, x + w, y + h], fill=255)
        else:
            size = mm * float(rng.uniform(5.0, 20.0))
            box = [x, y, x + size * float(rng.uniform(1.0, 2.0)), y + size]
            draw = canvas.layer(f"blot{n}", float(rng.uniform(0.0, 0.6)))
            if rng.random() < 0.5:
                draw.ellipse(box, fill=255)
            else:
                draw.rectangle(box, fill=255)
            if rng.random() < 0.5:  # letters left paper-white, as on an inked stamp pad
                font = fonts.get(size * 0.4, "bold")
                draw.text(
                    (x + size * 0.2, y + size * 0.25),
                    str(rng.choice(_STAMP_WORDS)),
                    fill=0,
                    font=font,
                )
        if kind not in used:
            used.append(kind)
    return canvas.compose(), used


def _print_tone(rng) -> float:
    r = rng.random()
    if r < 0.75:
        return float(rng.uniform(0.0, 0.12))
    if r < 0.92:
        return float(rng.uniform(0.12, 0.35))
    return float(rng.uniform(0.35, 0.55))


def render_clean_page(
    rng: np.random.Generator,
    width: int,
    height: int,
    dpi: float,
    crop: bool | None = None,
    annotations: bool | None = None,
    force: tuple[str, ...] = (),
    pen_tones: tuple[float, float] | None = None,
) -> tuple[np.ndarray, dict]:
    """Render the clean page: printed text plus hand-made marks.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness (same state, same page).
    width, height : int
        Page size in px.
    dpi : float
        Scanning resolution in dots per inch; body text is 9-14 pt at this DPI.
    crop : bool, optional
        True for a piece of a larger page (text runs off the edges, as in NoisyOffice),
        False for a whole page with office margins; random when None.
    annotations : bool, optional
        Whether to add handwriting, stamps, underlines or highlighter; random when None.
    force : tuple of str
        Annotation kinds that must appear (``"stamp"``, ``"signature"``, ``"highlighter"``,
        ``"handwriting"``).
    pen_tones : (float, float), optional
        Grey-level range of every pen (handwriting, signatures, underlines), e.g.
        ``(0.4, 0.6)`` for pencil; by default each pen is black, blue, brown or faint.

    Returns
    -------
    clean : (H, W) float32 in [0, 1]
        1.0 = paper, ink at its own tone.
    info : dict
        ``{"lines": [(x0, y_top, x1, y_base), ...], "body_px": float, "annotations": [...]}``.
    """
    canvas = PageCanvas(width, height)
    fonts = _Fonts(rng)
    if crop is None:
        crop = bool(rng.random() < 0.5)
    layout = _Layout(rng, canvas, dpi, crop, _print_tone(rng), fonts)
    layout.fill()
    used: list[str] = []
    if annotations is None:
        annotations = bool(rng.random() < 0.6)
    if annotations:
        used = _annotate(rng, canvas, layout, fonts, dpi, pen_tones)
    W, H = width, height
    pen_w = max(0.8, dpi * 0.008)
    if "stamp" in force and "stamp" not in used:
        _stamp(
            rng,
            canvas,
            fonts,
            float(rng.uniform(0.25, 0.75)) * W,
            float(rng.uniform(0.25, 0.75)) * H,
            layout.body_px * float(rng.uniform(6, 9)),
            float(rng.uniform(0.35, 0.55)),
        )
        used.append("stamp")
    if "signature" in force and "signature" not in used:
        signature(
            rng,
            _Pen(canvas, "sig", _pen_tone(rng, pen_tones)),
            float(rng.uniform(0.3, 0.7)) * W,
            float(rng.uniform(0.6, 0.9)) * H,
            layout.body_px * 6,
            pen_w * 1.3,
        )
        used.append("signature")
    if "handwriting" in force and "handwriting" not in used:
        pen = _Pen(canvas, "note", _pen_tone(rng, pen_tones))
        y = float(rng.uniform(0.1, 0.5)) * H
        for _ in range(3):
            handwriting(rng, pen, 0.1 * W, y, layout.body_px * 0.7, pen_w, 0.9 * W)
            y += layout.body_px * 3
        used.append("handwriting")
    page = canvas.compose()
    return page, {
        "lines": layout.lines,
        "body_px": layout.body_px,
        "annotations": used,
        "crop": crop,
    }


def text_coverage(rng: np.random.Generator, width: int, height: int, dpi: float) -> np.ndarray:
    """Coverage of a page of printed text alone (for bleed-through), (H, W) float32 in [0, 1]."""
    canvas = PageCanvas(width, height)
    layout = _Layout(rng, canvas, dpi, bool(rng.random() < 0.5), 0.0, _Fonts(rng))
    layout.fill()
    return 1.0 - canvas.compose()
