"""Batch job planning and running, shared by the ``scanclean-batch`` CLI and the GUI.

:func:`plan_jobs` turns input files and folders into :class:`Job` s (input path,
output path, skip flag or planning error) without touching any file; :func:`run_job`
cleans one job's pages with :func:`scanclean.engine.clean_image` and saves them
atomically with :func:`scanclean.pages.save_pages`.

Rules:

- Folders are walked recursively for image files (:data:`scanclean.pages.SUPPORTED_SUFFIXES`,
  hidden files and folders skipped); the sub-folder relative to the input folder is kept
  under the output folder. Files named explicitly are taken whatever their suffix (a
  non-image then fails with its reason).
- Output: ``OUTDIR/<sub>/<stem><suffix>``; the suffix from the format (``png``, ``tiff``,
  ``jpeg``, ``webp`` or ``same`` as the input). A multi-page TIFF input always gives a
  multi-page TIFF (``.tiff``) so no page is lost.
- An output that exists is skipped unless ``overwrite`` (so an interrupted batch resumes).
- An output is never an input: an output path equal to any input file, or claimed by an
  earlier input, is an error for that job.

No Qt here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .engine import DEFAULT_TILE, Cancelled, clean_image
from .model import ModelSession
from .pages import (
    FORMAT_SUFFIX,
    SUPPORTED_SUFFIXES,
    ImageError,
    count_pages,
    format_for_path,
    iter_pages,
    save_pages,
    to_uint8,
)

__all__ = [
    "FORMATS",
    "BatchSummary",
    "Job",
    "JobResult",
    "find_images",
    "output_suffix",
    "plan_jobs",
    "run_job",
    "run_jobs",
    "summarize",
]

FORMATS = ("png", "tiff", "jpeg", "webp", "same")
"""Output format names: ``same`` keeps the input's format."""

CLEANED, SKIPPED, FAILED = "cleaned", "skipped", "failed"


@dataclass
class Job:
    """One input file and where its cleaned pages go.

    Attributes
    ----------
    source : Path
        Input image file.
    output : Path or None
        Output file (``None`` only when planning failed before an output was known).
    skip : bool
        The output exists and overwriting was not asked for.
    error : str or None
        Why this job cannot run (missing input, output would replace an input, two
        inputs map to the same output ...); ``None`` when it can.
    """

    source: Path
    output: Path | None
    skip: bool = False
    error: str | None = None


@dataclass
class JobResult:
    """Outcome of :func:`run_job`.

    Attributes
    ----------
    job : Job
    status : str
        ``"cleaned"``, ``"skipped"`` or ``"failed"``.
    error : str or None
        Reason of a failure (names the file).
    pages : int
        Pages cleaned.
    megapixels : float
        Pixels cleaned, in MP.
    seconds : float
        Wall time of the job in s.
    decode_s, infer_s, encode_s : float
        Time spent reading/decoding, in the denoising autoencoder (tiling included), and
        encoding/writing, in s.
    """

    job: Job
    status: str
    error: str | None = None
    pages: int = 0
    megapixels: float = 0.0
    seconds: float = 0.0
    decode_s: float = 0.0
    infer_s: float = 0.0
    encode_s: float = 0.0


@dataclass
class BatchSummary:
    """Counts and throughput of a batch (see :func:`summarize`)."""

    cleaned: int = 0
    skipped: int = 0
    failed: int = 0
    pages: int = 0
    megapixels: float = 0.0
    seconds: float = 0.0
    decode_s: float = 0.0
    infer_s: float = 0.0
    encode_s: float = 0.0
    failures: list[JobResult] = field(default_factory=list)

    @property
    def megapixels_per_second(self) -> float:
        """Cleaned MP per second of wall time (0 when nothing was cleaned)."""
        return self.megapixels / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        """One-line human summary, e.g. ``"3 cleaned, 1 skipped, 0 failed; 2.1 MP in 1.2 s (1.75 MP/s)"``."""
        return (
            f"{self.cleaned} cleaned, {self.skipped} skipped, {self.failed} failed; "
            f"{self.megapixels:.1f} MP in {self.seconds:.1f} s "
            f"({self.megapixels_per_second:.2f} MP/s)"
        )


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def find_images(folder: str | Path, exclude: Path | None = None) -> list[Path]:
    """Image files under ``folder``, recursively, sorted; hidden files and folders skipped.

    Parameters
    ----------
    folder : str or Path
    exclude : Path or None
        A folder not to walk into (the output folder when it lies inside ``folder``).

    Returns
    -------
    list of Path
        Files whose lower-case suffix is in :data:`SUPPORTED_SUFFIXES`.
    """
    folder = Path(folder)
    exclude_res = exclude.resolve() if exclude is not None else None
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        root_path = Path(root)
        dirs[:] = sorted(
            d
            for d in dirs
            if not _is_hidden(d)
            and (exclude_res is None or (root_path / d).resolve() != exclude_res)
        )
        for name in sorted(files):
            if not _is_hidden(name) and Path(name).suffix.lower() in SUPPORTED_SUFFIXES:
                found.append(root_path / name)
    return found


def output_suffix(source: Path, fmt: str) -> str:
    """Output file suffix for an input file and a format name of :data:`FORMATS`.

    A TIFF input with more than one page gives ``.tiff`` whatever ``fmt`` is (only TIFF
    holds several pages); ``same`` keeps the input's suffix (``.png`` when it is not a
    supported one).

    Raises
    ------
    ValueError
        Unknown format name.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; use one of {', '.join(FORMATS)}")
    suffix = source.suffix.lower()
    if suffix in (".tif", ".tiff") and fmt not in ("tiff", "same"):
        try:
            if count_pages(source) > 1:
                return ".tiff"
        except ImageError:
            pass  # unreadable: the job reports why when it runs
    if fmt == "same":
        return source.suffix if suffix in SUPPORTED_SUFFIXES else ".png"
    return FORMAT_SUFFIX[fmt]


def plan_jobs(
    inputs: Iterable[str | Path],
    outdir: str | Path,
    fmt: str = "png",
    overwrite: bool = False,
) -> list[Job]:
    """Plan the jobs of a batch: one per input image file, with its output path.

    Reads only directory listings and, for TIFF inputs, the page count; writes nothing.

    Parameters
    ----------
    inputs : iterable of str or Path
        Image files and folders (walked recursively, see :func:`find_images`).
    outdir : str or Path
        Output folder; ``OUTDIR/<sub>/<stem><suffix>`` with ``<sub>`` the file's
        sub-folder relative to the input folder it was found in ("" for files).
    fmt : str
        One of :data:`FORMATS`.
    overwrite : bool
        False: a job whose output exists gets ``skip=True`` (resume).

    Returns
    -------
    list of Job
        In input order, each folder's files sorted. A job has ``error`` set when its
        input is missing or a folder without images, when its output would replace an
        input file, or when an earlier job already writes that output.

    Raises
    ------
    ValueError
        Unknown ``fmt``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r}; use one of {', '.join(FORMATS)}")
    outdir = Path(outdir)
    jobs: list[Job] = []
    sources: list[tuple[Path, Path]] = []  # (file, sub-folder under outdir)
    seen: set[Path] = set()
    for item in inputs:
        item = Path(item)
        if item.is_dir():
            files = find_images(item, exclude=outdir)
            if not files:
                jobs.append(Job(item, None, error=f"{item}: no image files in this folder"))
            for path in files:
                sources.append((path, path.parent.relative_to(item)))
        elif item.exists():
            sources.append((item, Path()))
        else:
            jobs.append(Job(item, None, error=f"{item}: no such file or folder"))

    planned: list[Job] = []
    for path, sub in sources:
        key = path.resolve()
        if key in seen:  # the same file named twice (e.g. itself and its folder)
            continue
        seen.add(key)
        output = outdir / sub / (path.stem + output_suffix(path, fmt))
        planned.append(Job(path, output))

    inputs_resolved = {job.source.resolve(): job.source for job in planned}
    claimed: dict[Path, Path] = {}
    for job in planned:
        out_key = job.output.resolve()
        if out_key in inputs_resolved:
            job.error = (
                f"{job.source}: output {job.output} would replace the input file "
                f"{inputs_resolved[out_key]}; choose another output folder or format"
            )
        elif out_key in claimed:
            job.error = (
                f"{job.source}: output {job.output} is already the output of "
                f"{claimed[out_key]}; rename one of them or use --format same"
            )
        else:
            claimed[out_key] = job.source
            job.skip = job.output.exists() and not overwrite
    return jobs + planned


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def run_job(
    job: Job,
    session: ModelSession,
    tile: int = DEFAULT_TILE,
    progress: Callable[[float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    flips: int = 1,
) -> JobResult:
    """Clean every page of one job's input and save them atomically to its output.

    Pages are read one at a time (:func:`scanclean.pages.iter_pages`), cleaned tile by
    tile (:func:`scanclean.engine.clean_image`), kept as 8-bit and written together
    (:func:`scanclean.pages.save_pages`, temp file + ``os.replace``) with the first page's
    DPI. A bad input (unreadable, truncated, zero-size, not an image) or a failed write
    gives a ``"failed"`` result with the reason; it does not raise.

    Parameters
    ----------
    job : Job
        From :func:`plan_jobs`; a job with ``error`` fails and one with ``skip`` is
        skipped without reading anything.
    session : ModelSession
    tile : int
        Largest tile (window) side in px (default :data:`scanclean.engine.DEFAULT_TILE`).
    progress : callable or None
        ``progress(fraction)`` with the fraction of this file done, in [0, 1], after
        every tile.
    cancel : callable or None
        ``cancel() -> bool``, polled before every tile.
    flips : int
        Mirror images averaged per tile (1, 2 or 4; see
        :func:`scanclean.engine.clean_image`).

    Returns
    -------
    JobResult

    Raises
    ------
    Cancelled
        When ``cancel()`` returns true (nothing is written for this job).
    KeyboardInterrupt
        Passed on (any temp file is removed first).
    """
    start = time.perf_counter()
    if job.error is not None:
        return JobResult(job, FAILED, error=job.error)
    if job.skip:
        return JobResult(job, SKIPPED)
    assert job.output is not None
    result = JobResult(job, FAILED)
    if job.output.exists() and _same_file(job.output, job.source):
        result.error = f"{job.source}: output {job.output} is the input file itself; refused"
        return result
    try:
        fmt = format_for_path(job.output)
        cleaned: list = []
        dpi = None
        pages = iter_pages(job.source)
        t0 = time.perf_counter()
        for page in pages:
            result.decode_s += time.perf_counter() - t0
            if page.index == 0:
                dpi = page.dpi
            t1 = time.perf_counter()

            def tile_progress(done: int, total: int, _i=page.index, _n=page.n_pages) -> None:
                if progress is not None:
                    progress((_i + done / total) / _n)

            out = clean_image(
                page.pixels,
                session,
                tile=tile,
                progress=tile_progress,
                cancel=cancel,
                flips=flips,
            )
            result.megapixels += page.megapixels
            del page
            result.infer_s += time.perf_counter() - t1
            t2 = time.perf_counter()
            cleaned.append(to_uint8(out))
            del out
            result.encode_s += time.perf_counter() - t2
            t0 = time.perf_counter()
        result.decode_s += time.perf_counter() - t0
        t3 = time.perf_counter()
        save_pages(cleaned, job.output, dpi=dpi, format=fmt)
        result.encode_s += time.perf_counter() - t3
        result.pages = len(cleaned)
        result.status = CLEANED
    except (Cancelled, KeyboardInterrupt):
        raise
    except ImageError as exc:
        result.error = str(exc)
    except Exception as exc:  # onnxruntime, memory, ...: report it and let the batch go on
        result.error = f"{job.source}: {type(exc).__name__}: {exc}"
    if result.status != CLEANED:
        result.pages = 0
        result.megapixels = 0.0
    result.seconds = time.perf_counter() - start
    return result


def run_jobs(
    jobs: Sequence[Job],
    session: ModelSession,
    tile: int = DEFAULT_TILE,
    on_result: Callable[[JobResult], None] | None = None,
    progress: Callable[[int, float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    flips: int = 1,
) -> list[JobResult]:
    """Run jobs one after the other (see :func:`run_job`); a failed job does not stop the batch.

    Parameters
    ----------
    jobs : sequence of Job
    session : ModelSession
    tile : int
        Largest tile side in px.
    on_result : callable or None
        ``on_result(result)`` after each job.
    progress : callable or None
        ``progress(job_index, fraction_of_that_file)`` after every tile.
    cancel : callable or None
        Polled before every tile; raises :class:`~scanclean.engine.Cancelled`.
    flips : int
        Mirror images averaged per tile (1, 2 or 4).

    Returns
    -------
    list of JobResult
    """
    results = []
    for i, job in enumerate(jobs):
        file_progress = None if progress is None else (lambda f, _i=i: progress(_i, f))
        result = run_job(
            job, session, tile=tile, progress=file_progress, cancel=cancel, flips=flips
        )
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def summarize(results: Iterable[JobResult], seconds: float | None = None) -> BatchSummary:
    """Count cleaned / skipped / failed jobs and add up pages, MP and times.

    Parameters
    ----------
    results : iterable of JobResult
    seconds : float or None
        Wall time of the batch in s (default: the sum of the jobs' times).

    Returns
    -------
    BatchSummary
    """
    summary = BatchSummary()
    total = 0.0
    for r in results:
        if r.status == CLEANED:
            summary.cleaned += 1
        elif r.status == SKIPPED:
            summary.skipped += 1
        else:
            summary.failed += 1
            summary.failures.append(r)
        summary.pages += r.pages
        summary.megapixels += r.megapixels
        summary.decode_s += r.decode_s
        summary.infer_s += r.infer_s
        summary.encode_s += r.encode_s
        total += r.seconds
    summary.seconds = total if seconds is None else seconds
    return summary
