"""Output names and save plans of the window's Save / Save all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scanclean.pages import Page
from scanclean.qt.qt_output import output_name, plan_saves
from scanclean.qt.qt_queue import PageEntry


def entry(source, index=0, n_pages=1, cleaned=True):
    pixels = np.ones((4, 5), np.float32)
    page = Page(pixels=pixels, dpi=None, source=Path(source), index=index, n_pages=n_pages)
    return PageEntry(source=Path(source), page=page, cleaned=pixels if cleaned else None)


@pytest.mark.parametrize(
    ("pattern", "fmt", "expected"),
    [
        ("{stem}-clean", "PNG", "scan 1-clean.png"),
        ("clean_{stem}", "jpeg", "clean_scan 1.jpg"),
        ("{stem}_{suffix}", "WEBP", "scan 1_tif.webp"),
        ("{name}", "TIFF", "scan 1.tif.tiff"),
    ],
)
def test_output_name_fills_the_pattern(pattern, fmt, expected):
    assert output_name(Path("/in/scan 1.tif"), pattern, fmt) == expected


@pytest.mark.parametrize(
    ("pattern", "fmt", "message"),
    [
        ("{bogus}", "PNG", "unknown field"),
        ("{stem", "PNG", "name pattern"),
        ("sub/{stem}", "PNG", "separator"),
        ("   ", "PNG", "empty"),
        ("{stem}", "GIF", "unknown output format"),
    ],
)
def test_output_name_rejects_bad_patterns(pattern, fmt, message):
    with pytest.raises(ValueError, match=message):
        output_name(Path("scan.png"), pattern, fmt)


def test_plan_saves_groups_multi_page_inputs_into_one_tiff(tmp_path):
    out = tmp_path / "out"
    entries = [entry("/in/a.png"), entry("/in/doc.tif", 1, 2), entry("/in/doc.tif", 0, 2)]
    jobs = plan_saves(entries, out, "PNG", "{stem}-clean")
    assert [(j.path.name, j.format, j.problem) for j in jobs] == [
        ("a-clean.png", "PNG", ""),
        ("doc-clean.tiff", "TIFF", ""),
    ]
    assert [e.page.index for e in jobs[1].entries] == [0, 1]


def test_plan_saves_reports_problems(tmp_path):
    src = tmp_path / "src"
    entries = [
        entry(src / "a.png"),
        entry(src / "b.png", cleaned=False),
        entry(src / "doc.tif", 0, 3),
    ]
    originals = [e.source for e in entries]
    jobs = plan_saves(entries, src, "PNG", "{stem}", originals=originals)
    problems = [j.problem for j in jobs]
    assert "original" in problems[0] and "a.png" in problems[0]
    assert "not cleaned" in problems[1]
    assert "1 of 3" in problems[2]
    # with another folder and pattern the same pages are fine (but b is still not cleaned)
    jobs = plan_saves(entries[:1], tmp_path / "out", "PNG", "{stem}", originals=originals)
    assert jobs[0].problem == ""


def test_plan_saves_refuses_two_pages_with_one_name(tmp_path):
    entries = [entry(tmp_path / "x" / "a.png"), entry(tmp_path / "y" / "a.png")]
    jobs = plan_saves(entries, tmp_path / "out", "PNG", "{stem}")
    assert jobs[0].problem == ""
    assert "two pages" in jobs[1].problem
