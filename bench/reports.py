"""Report rendering benchmarks (run from bench/__main__.py, `BENCH_ONLY=reports`): the engine chosen by
measurement, on one core, in this process.

- typst (the product's renderer) against reportlab (the finalist, bench/reportlab_prospectus.py) on
  the prospectus with 6 photos of 2400 x 1600 px: both prepare the images with the same code, so
  the difference is the engine; the image preparation is timed on its own too. Every round renders
  an estate with photos of its own, as in production (typst would otherwise reuse the pictures it
  decoded for the round before).
- The summary, and PDF sizes (6 and 20 photos).
- Memory: RSS of this process over consecutive renders (no growth past the first hundred).
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.reportlab_prospectus import render_prospectus as reportlab_prospectus
from domain.reports import ReportData, ReportTemplate
from service.print_images import COVER_PIXELS, GALLERY_PIXELS, print_copy
from service.report_rendering import render_report
from tests.factories.reports import report_data

ROUNDS = 12
WARM_UP = 2
PHOTOS = 6


def _median_ms(renders: dict[str, Callable[[ReportData], object]], estates: list[ReportData]) -> dict[str, float]:
    """The median time of each render, taken in alternation (the machine's speed drifts within a run),
    each round on an estate of its own; the first `WARM_UP` estates only warm up."""
    timings: dict[str, list[float]] = {name: [] for name in renders}
    for round_number, estate in enumerate(estates):
        for name, render in renders.items():
            started = time.perf_counter()
            render(estate)
            if round_number >= WARM_UP:
                timings[name].append((time.perf_counter() - started) * 1000)
    return {name: statistics.median(values) for name, values in timings.items()}


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def _prepare_images(data: ReportData) -> None:
    for position, image in enumerate(data.images):
        print_copy(image.content, COVER_PIXELS if position == 0 else GALLERY_PIXELS)


def _print_ready(data: ReportData) -> ReportData:
    """The estate as a report of a mirrored estate gets it: the mirror's print-size copies."""
    images = []
    for position, image in enumerate(data.images):
        copy = print_copy(image.content, COVER_PIXELS if position == 0 else GALLERY_PIXELS)
        assert copy is not None
        images.append(replace(image, content=copy, print_ready=True))
    return replace(data, images=tuple(images))


def _memory(estates: list[ReportData], renders: int) -> dict[str, float]:
    """RSS after the first hundred renders and after all of them (the estates in turn)."""
    gc.collect()
    before = _rss_kib()
    after_hundred = 0
    for count in range(1, renders + 1):
        render_report(ReportTemplate.PROSPECTUS, estates[count % len(estates)])
        if count == 100:
            gc.collect()
            after_hundred = _rss_kib()
    gc.collect()
    after = _rss_kib()
    return {"renders": renders, "start_mib": before / 1024, "after_100_mib": after_hundred / 1024,
            "end_mib": after / 1024, "growth_after_100_mib": (after - after_hundred) / 1024}  # fmt: skip


def reports_benchmark(memory_renders: int) -> dict[str, Any]:
    estates = [report_data(images=PHOTOS, first_photo=n * PHOTOS) for n in range(WARM_UP + ROUNDS)]
    six = estates[0]
    twenty = report_data(images=20)
    bare = report_data(images=0)
    ready = {id(estate): _print_ready(estate) for estate in estates}
    medians = _median_ms({
        "typst_prospectus_print_ready_ms": lambda estate: render_report(ReportTemplate.PROSPECTUS, ready[id(estate)]),
        "typst_prospectus_ms": lambda estate: render_report(ReportTemplate.PROSPECTUS, estate),
        "reportlab_prospectus_ms": reportlab_prospectus,
        "image_preparation_ms": _prepare_images,
        "typst_summary_ms": lambda estate: render_report(ReportTemplate.SUMMARY, estate),
        "typst_prospectus_no_images_ms": lambda _: render_report(ReportTemplate.PROSPECTUS, bare),
        "reportlab_prospectus_no_images_ms": lambda _: reportlab_prospectus(bare),
    }, estates)  # fmt: skip
    results: dict[str, Any] = {
        **medians,
        "sizes_kib": {
            "typst_prospectus_6": len(render_report(ReportTemplate.PROSPECTUS, six)) / 1024,
            "reportlab_prospectus_6": len(reportlab_prospectus(six)) / 1024,
            "typst_prospectus_20": len(render_report(ReportTemplate.PROSPECTUS, twenty)) / 1024,
            "typst_summary": len(render_report(ReportTemplate.SUMMARY, six)) / 1024,
            "photos_6": sum(len(image.content) for image in six.images) / 1024,
            "photos_20": sum(len(image.content) for image in twenty.images) / 1024,
        },
        "memory": _memory(estates, memory_renders),
    }
    for engine in ("typst", "reportlab"):
        prospectus_ms = results[f"{engine}_prospectus_ms"]
        results[f"{engine}_engine_ms"] = prospectus_ms - results["image_preparation_ms"]
        results[f"{engine}_prospectus_per_second"] = 1000 / prospectus_ms
    return results


def report_lines(reports: dict[str, Any]) -> list[str]:
    sizes, memory = reports["sizes_kib"], reports["memory"]
    return [
        f"prospectus, 6 photos of 2400 x 1600, one core: typst {reports['typst_prospectus_ms']:.1f} ms "
        f"({reports['typst_prospectus_per_second']:.1f}/s), reportlab {reports['reportlab_prospectus_ms']:.1f} ms "
        f"({reports['reportlab_prospectus_per_second']:.1f}/s)",
        f"  of which image preparation (decode, downscale, JPEG) {reports['image_preparation_ms']:.1f} ms; "
        f"engine alone: typst {reports['typst_engine_ms']:.1f} ms, reportlab {reports['reportlab_engine_ms']:.1f} ms; "
        f"without images: typst {reports['typst_prospectus_no_images_ms']:.1f} ms, "
        f"reportlab {reports['reportlab_prospectus_no_images_ms']:.1f} ms",
        f"summary (typst, main photo only): {reports['typst_summary_ms']:.1f} ms",
        f"prospectus from the mirror's print-size copies (typst, embedded as they are): "
        f"{reports['typst_prospectus_print_ready_ms']:.1f} ms",
        f"sizes: prospectus 6 photos typst {sizes['typst_prospectus_6']:.0f} KiB / reportlab "
        f"{sizes['reportlab_prospectus_6']:.0f} KiB (photos {sizes['photos_6']:.0f} KiB); 20 photos "
        f"{sizes['typst_prospectus_20']:.0f} KiB (photos {sizes['photos_20']:.0f} KiB); "
        f"summary {sizes['typst_summary']:.0f} KiB",
        f"RSS over {memory['renders']} prospectuses: {memory['start_mib']:.0f} MiB at start, "
        f"{memory['after_100_mib']:.0f} after 100, {memory['end_mib']:.0f} at the end: "
        f"{memory['growth_after_100_mib']:+.1f} MiB past the first hundred",
    ]
