"""Spreadsheets benchmark (OUT-4): `chorus bulk export accounts --format xlsx` and `chorus
bulk import` of the workbook, each a ratio to the same command in CSV, same run.

    .venv/bin/python benchmarks/sheets.py [--rows 100000] [--small 10000] [--runs 3]
                                          [--out benchmarks/results-sheets.json]

- The store: ``--rows`` accounts imported from benchmarks/bulk.py's flow.
- Export of them to a file (``--output``): XLSX against CSV, runs interleaved. Goal: 3x.
  Memory: the XLSX export's peak at ``--rows`` within 1.3x of the same at ``--small``
  (flat: the workbook is streamed).
- Import of those two exports (the same accounts, every field) into the store as it was
  before (an admin alone): XLSX against CSV. Goal: 2x. The XLSX import's peak memory is
  reported too (python-calamine holds the sheet: it grows with the file, no goal).

Every figure is a whole command in a fresh process, as a user runs it. Exits 0 even when
a figure is over its goal: this is a report.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bulk import Store, generate, import_run  # noqa: E402
from benchmarks.harness import (  # noqa: E402
    CHORUS,
    figure,
    median,
    memory_figure,
    print_figures,
    print_memory,
    report,
    run_measured,
)


def export_run(store: Store, fmt: str, path: Path) -> tuple[float, int]:
    argv = [CHORUS, "bulk", "export", "accounts", "--format", fmt, "--output", str(path)]
    wall, peak, _err = run_measured(argv, store.env)
    assert path.is_file(), f"no {path.name}: {_err[-300:] if _err else ''}"
    return wall, peak


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results-sheets.json")
    options = parser.parse_args()
    if not Path(CHORUS).exists():
        raise SystemExit(f"{CHORUS} not found: run `make bench` (it installs chorus first)")

    tmp = Path(tempfile.mkdtemp(prefix="chorus-sheets-bench-"))
    try:
        big = generate(tmp / "accounts.csv", options.rows, phones=True)
        small = generate(tmp / "accounts-small.csv", options.small, phones=True)
        store = Store(tmp, "sqlite")

        import_run(store, small)
        small_xlsx_peak = export_run(store, "xlsx", tmp / "small.xlsx")[1]
        import_run(store, big)
        csv_walls, xlsx_walls, xlsx_peaks, csv_peaks = [], [], [], []
        for _ in range(options.runs):
            wall, peak = export_run(store, "csv", tmp / "export.csv")
            csv_walls.append(wall)
            csv_peaks.append(peak)
            wall, peak = export_run(store, "xlsx", tmp / "export.xlsx")
            xlsx_walls.append(wall)
            xlsx_peaks.append(peak)
        size_csv = (tmp / "export.csv").stat().st_size
        size_xlsx = (tmp / "export.xlsx").stat().st_size

        csv_imports, xlsx_imports, xlsx_import_peaks, csv_import_peaks = [], [], [], []
        for _ in range(options.runs):
            wall, peak = import_run(store, tmp / "export.csv")
            csv_imports.append(wall)
            csv_import_peaks.append(peak)
            wall, peak = import_run(store, tmp / "export.xlsx")
            xlsx_imports.append(wall)
            xlsx_import_peaks.append(peak)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    rows = f"{options.rows:,}"
    results = [
        figure(f"bulk export, {rows} accounts (XLSX)", xlsx_walls,
               "the same export as CSV", csv_walls, 3.0),
        figure(f"bulk import, {rows} accounts (XLSX)", xlsx_imports,
               "the same accounts as CSV", csv_imports, 2.0),
    ]  # fmt: skip
    memory = [
        memory_figure("xlsx export peak memory", max(xlsx_peaks), small_xlsx_peak),
        memory_figure("xlsx import peak memory (vs CSV import)", max(xlsx_import_peaks),
                      max(csv_import_peaks), None),
    ]  # fmt: skip

    print_figures(results)
    print(f"  files: CSV {size_csv / 1e6:.1f} MB, XLSX {size_xlsx / 1e6:.1f} MB")
    print()
    print_memory(memory)
    over = [r["name"] for r in results + memory if not r["ok"]]
    return report(
        options.out,
        over,
        {
            "rows": options.rows,
            "small": options.small,
            "runs": options.runs,
            "results": results,
            "memory": memory,
            "all_runs": {
                "export_csv": csv_walls,
                "export_xlsx": xlsx_walls,
                "import_csv": csv_imports,
                "import_xlsx": xlsx_imports,
                "median_export_csv": median(csv_walls),
            },
        },
    )


if __name__ == "__main__":
    sys.exit(main())
