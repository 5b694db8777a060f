"""Where the window's Save / Save all write: output names and save plans.

Plain Python (no Qt calls) so it can be tested on its own; it lives beside the Qt code
because only the window uses it (``scanclean.batch`` plans the CLI's outputs).
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanclean.qt.qt_settings import FORMAT_SUFFIXES

_ALLOWED_FIELDS = {"stem", "page", "name", "suffix"}


def output_name(source: Path, pattern: str, fmt: str, page: int | str | None = None) -> str:
    """File name for a cleaned page.

    Parameters
    ----------
    source : Path
        The input file.
    pattern : str
        Name without suffix, with fields ``{stem}`` (input name without suffix), ``{page}``
        (1-based page number), ``{name}`` (input file name) and ``{suffix}`` (input suffix
        without the dot), e.g. ``"{stem}-clean"``.
    fmt : str
        ``"PNG"``, ``"TIFF"``, ``"JPEG"`` or ``"WEBP"``; gives the suffix.
    page : int, str or None
        Page number for ``{page}`` (None: ``1``).

    Returns
    -------
    str
        E.g. ``"scan-clean.png"``.

    Raises
    ------
    ValueError
        Unknown field, unbalanced braces, a path separator, an empty name or an unknown
        format.
    """
    fmt = fmt.upper()
    if fmt not in FORMAT_SUFFIXES:
        raise ValueError(f"unknown output format {fmt!r}")
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None}
    except ValueError as exc:
        raise ValueError(f"name pattern {pattern!r}: {exc}") from None
    unknown = fields - _ALLOWED_FIELDS
    if unknown:
        raise ValueError(
            f"name pattern {pattern!r}: unknown field {{{sorted(unknown)[0]}}}; "
            "use {stem}, {page}, {name} or {suffix}"
        )
    stem = pattern.format(
        stem=source.stem,
        page=1 if page is None else page,
        name=source.name,
        suffix=source.suffix.lstrip("."),
    ).strip()
    if not stem or stem in (".", ".."):
        raise ValueError(f"name pattern {pattern!r} gives an empty file name")
    if "/" in stem or "\\" in stem:
        raise ValueError(f"name pattern {pattern!r} must not contain a folder separator")
    return stem + FORMAT_SUFFIXES[fmt]


@dataclass
class SaveJob:
    """One output file and the queue entries (pages) that go into it.

    Attributes
    ----------
    path : Path
        Output file.
    entries : list
        ``PageEntry`` objects, in page order (several only for a multi-page TIFF).
    problem : str
        Why this job cannot be written ("" when it can), naming the file.
    format : str
        Pillow format to write (``"TIFF"`` for a multi-page input).
    """

    path: Path
    entries: list[Any] = field(default_factory=list)
    problem: str = ""
    format: str = "PNG"


def plan_saves(
    entries: Sequence[Any],
    folder: Path,
    fmt: str,
    pattern: str,
    originals: Sequence[Path] = (),
) -> list[SaveJob]:
    """Decide the output files for cleaned pages.

    Parameters
    ----------
    entries : sequence of PageEntry
        Pages to save (each with ``source``, ``page`` and ``cleaned``), queue order.
    folder : Path
        Output folder.
    fmt : str
        Output format (``"PNG"``, ``"TIFF"``, ``"JPEG"``, ``"WEBP"``).
    pattern : str
        Name pattern (see :func:`output_name`).
    originals : sequence of Path
        Every input file of the session; no output may be one of them.

    Returns
    -------
    list of SaveJob
        Pages of one input file go together: a multi-page input becomes one multi-page
        TIFF whatever ``fmt`` is (as ``scanclean-batch`` does, so no page is lost), once
        all of its pages are cleaned. A job whose output would be an original, whose name
        an earlier job took, or whose pages are not all cleaned gets a ``problem``.

    Raises
    ------
    ValueError
        If the pattern or format is invalid (see :func:`output_name`).
    """
    fmt = fmt.upper()
    protected = {Path(p).resolve() for p in originals}
    groups: dict[Path, list[Any]] = {}
    for entry in entries:
        if entry.page is None:
            continue
        groups.setdefault(Path(entry.source), []).append(entry)
    jobs: list[SaveJob] = []
    used: set[Path] = set()
    for source, group in groups.items():
        group.sort(key=lambda e: e.page.index)
        n_pages = group[0].page.n_pages
        if n_pages > 1:
            name = output_name(source, pattern, "TIFF", page=f"1-{n_pages}")
            job = SaveJob(folder / name, group, format="TIFF")
            missing = [e for e in group if e.cleaned is None]
            if len(group) < n_pages or missing:
                job.problem = (
                    f"{source}: only {len(group) - len(missing)} of {n_pages} pages are "
                    "cleaned; a multi-page TIFF is saved once every page is"
                )
            jobs.append(job)
        else:
            (entry,) = group
            name = output_name(source, pattern, fmt)
            job = SaveJob(folder / name, [entry], format=fmt)
            if entry.cleaned is None:
                job.problem = f"{entry.label}: not cleaned yet"
            jobs.append(job)
    for job in jobs:
        target = job.path.resolve()
        if job.problem:
            pass
        elif target in protected:
            job.problem = f"{job.path}: is an original input; choose another folder or name pattern"
        elif target in used:
            job.problem = f"{job.path}: two pages would get this output name; add {{page}} or change the pattern"
        used.add(target)
    return jobs
