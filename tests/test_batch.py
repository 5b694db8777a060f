"""Tests of scanclean.batch: job planning (outputs, resume, never over an input) and running."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import make_page
from scanclean.batch import plan_jobs, run_job, run_jobs, summarize
from scanclean.engine import Cancelled, clean_image
from scanclean.model import ModelSession
from scanclean.pages import load_pages


def _write(path: Path, h=60, w=50, seed=0, **save_kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((make_page(h, w, seed) * 255).round().astype(np.uint8), "L").save(
        path, **save_kwargs
    )
    return path


@pytest.fixture
def session(tiny_model_path):
    return ModelSession(tiny_model_path, intra_op_threads=1)


def test_plan_keeps_subfolders_and_formats(tmp_path):
    src = tmp_path / "scans"
    _write(src / "a.png")
    _write(src / "sub" / "deeper" / "b.jpg")
    _write(src / "sub" / "c.TIF")
    (src / "notes.txt").write_text("not an image")
    (src / ".hidden.png").write_bytes(b"x")
    single = _write(tmp_path / "single.bmp")
    out = tmp_path / "out"
    jobs = plan_jobs([src, single], out)
    assert [(j.source, j.output) for j in jobs] == [
        (src / "a.png", out / "a.png"),
        (src / "sub" / "c.TIF", out / "sub" / "c.png"),
        (src / "sub" / "deeper" / "b.jpg", out / "sub" / "deeper" / "b.png"),
        (single, out / "single.png"),
    ]
    assert all(j.error is None and not j.skip for j in jobs)
    same = plan_jobs([src], out, fmt="same")
    assert {j.output.name for j in same} == {"a.png", "b.jpg", "c.TIF"}
    tiff = plan_jobs([src], out, fmt="tiff")
    assert {j.output.suffix for j in tiff} == {".tiff"}
    assert not out.exists()  # planning writes nothing


def test_multipage_tiff_input_gives_tiff_output(tmp_path, session):
    frames = [Image.fromarray((make_page(40, 30, i) * 255).astype(np.uint8), "L") for i in range(3)]
    src = tmp_path / "multi.tif"
    frames[0].save(src, save_all=True, append_images=frames[1:])
    (job,) = plan_jobs([src], tmp_path / "out", fmt="png")
    assert job.output.suffix == ".tiff"
    result = run_job(job, session, tile=64)
    assert result.status == "cleaned" and result.pages == 3
    pages = load_pages(job.output)
    assert len(pages) == 3
    for page, frame in zip(pages, frames, strict=True):
        expected = clean_image(np.asarray(frame) / np.float32(255), session)
        np.testing.assert_allclose(page.pixels, expected, atol=0.51 / 255)


def test_output_equal_to_input_is_refused(tmp_path, session):
    src = _write(tmp_path / "page.png")
    before = src.read_bytes()
    (job,) = plan_jobs([src], tmp_path, fmt="png")
    assert job.output == src
    assert job.error is not None and "replace the input" in job.error
    result = run_job(job, session)
    assert result.status == "failed"
    assert src.read_bytes() == before


def test_output_equal_to_another_input_is_refused(tmp_path):
    a_png = _write(tmp_path / "x.png")
    a_jpg = _write(tmp_path / "x.jpg")
    jobs = {j.source: j for j in plan_jobs([tmp_path], tmp_path, fmt="png")}
    assert "replace the input" in jobs[a_png].error
    assert "replace the input" in jobs[a_jpg].error  # x.jpg -> x.png is an input


def test_two_inputs_same_output_is_refused(tmp_path):
    a = _write(tmp_path / "in" / "p.png")
    b = _write(tmp_path / "in" / "p.jpg")
    jobs = plan_jobs([a, b], tmp_path / "out")
    assert jobs[0].error is None
    assert jobs[1].error is not None and "already the output of" in jobs[1].error
    assert str(a) in jobs[1].error


def test_same_file_twice_is_one_job(tmp_path):
    a = _write(tmp_path / "in" / "p.png")
    jobs = plan_jobs([a, tmp_path / "in"], tmp_path / "out")
    assert len(jobs) == 1 and jobs[0].error is None


def test_outdir_inside_input_folder_is_not_walked(tmp_path):
    src = tmp_path / "scans"
    _write(src / "a.png")
    _write(src / "clean" / "a.png")  # a previous run's output
    jobs = plan_jobs([src], src / "clean")
    assert [j.source for j in jobs] == [src / "a.png"]
    assert jobs[0].skip  # output exists: resume skips it


def test_missing_input_and_empty_folder_are_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    jobs = plan_jobs([tmp_path / "nope.png", tmp_path / "empty"], tmp_path / "out")
    assert len(jobs) == 2
    assert "no such file" in jobs[0].error and "nope.png" in jobs[0].error
    assert "no image files" in jobs[1].error


def test_resume_skips_and_overwrite_replaces(tmp_path, session):
    src = _write(tmp_path / "in" / "a.png")
    out = tmp_path / "out" / "a.png"
    out.parent.mkdir()
    out.write_bytes(b"previous")
    (job,) = plan_jobs([src], tmp_path / "out")
    assert job.skip
    assert run_job(job, session).status == "skipped"
    assert out.read_bytes() == b"previous"
    (job,) = plan_jobs([src], tmp_path / "out", overwrite=True)
    assert not job.skip
    assert run_job(job, session).status == "cleaned"
    assert out.read_bytes() != b"previous"
    assert load_pages(out)[0].pixels.shape == (60, 50)


def test_run_job_writes_cleaned_page_with_dpi(tmp_path, session):
    src = _write(tmp_path / "a.tif", h=70, w=45, dpi=(300, 300))
    (job,) = plan_jobs([src], tmp_path / "out")
    result = run_job(job, session, tile=32)
    assert result.status == "cleaned" and result.pages == 1
    assert result.megapixels == pytest.approx(70 * 45 / 1e6)
    (page,) = load_pages(job.output)
    assert page.dpi == pytest.approx((300, 300))
    expected = clean_image(load_pages(src)[0].pixels, session)
    np.testing.assert_allclose(page.pixels, expected, atol=0.51 / 255)
    assert sorted(p.name for p in job.output.parent.iterdir()) == ["a.png"]


def test_bad_pages_fail_with_reason_and_batch_goes_on(tmp_path, session):
    src = tmp_path / "in"
    _write(src / "a_good.png")
    (src / "b_empty.png").write_bytes(b"")
    good = _write(tmp_path / "tmp.png", 200, 200)
    (src / "c_trunc.png").write_bytes(good.read_bytes()[:500])
    (src / "d_text.jpg").write_text("hello")
    _write(src / "e_good.jpg")
    jobs = plan_jobs([src], tmp_path / "out")
    progress = []
    results = run_jobs(jobs, session, tile=64, progress=lambda i, f: progress.append((i, f)))
    status = {r.job.source.name: r for r in results}
    assert status["a_good.png"].status == "cleaned"
    assert status["e_good.jpg"].status == "cleaned"
    for name in ("b_empty.png", "c_trunc.png", "d_text.jpg"):
        assert status[name].status == "failed"
        assert name in status[name].error
    assert "empty" in status["b_empty.png"].error
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a_good.png", "e_good.png"]
    assert {i for i, _ in progress} == {0, 4}
    summary = summarize(results)
    assert (summary.cleaned, summary.skipped, summary.failed) == (2, 0, 3)


def test_cancel_writes_nothing(tmp_path, session):
    src = _write(tmp_path / "a.png", 200, 200)
    (job,) = plan_jobs([src], tmp_path / "out")
    with pytest.raises(Cancelled):
        run_job(job, session, tile=64, cancel=lambda: True)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
