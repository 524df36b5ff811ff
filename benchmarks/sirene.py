"""SIRENE benchmark: import rate on a generated 1,000,000-row stock file, and lookup /
search latency on the index it builds (STR-2).

    .venv/bin/python benchmarks/sirene.py [--rows 1000000] [--seed 7] [--calls 200]
                                          [--out benchmarks/results-sirene.json]

- Generates StockEtablissement.csv (``--rows`` establishments) and StockUniteLegale.csv
  (about 0.7 unit per establishment, as in the national files) in INSEE's layout,
  deterministically: French-looking names over a few thousand surnames, a skewed
  distribution (common names are common), 45 % closed establishments, 2 % non-diffusible.
- Floor, in the same run: `sqlite3`'s own `.import --csv` of the same file into a plain
  table (WAL, like the store). Goal: `chorus sirene import` within 2x of it. The chorus
  figure is the whole command in a fresh process, as a user runs it: start-up, session
  check, parsing, load, full-text index, swap.
- Then `--unites-legales` too (a re-import: the first index is replaced), against the
  floor of importing both files.
- Latency: `chorus_cli.domain.sirene.find` and the search behind `chorus sirene search`,
  called in this process on the 1M-row index; medians (and p95) over ``--calls`` calls.
  Goal: < 10 ms each.

Exits 0 even when a figure is over its goal: this is a report.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from benchmarks.harness import CHORUS, operator_session, report, run_measured  # noqa: E402

ADMIN = "bench.sirene@example.fr"

# --- a deterministic stock file in INSEE's layout -------------------------------------


def words(text: str) -> list[str]:
    return text.split()


ACTIVITIES = words(
    "BOULANGERIE PATISSERIE BOUCHERIE CHARCUTERIE PHARMACIE GARAGE CARROSSERIE TRANSPORTS"
    " TAXI AMBULANCES PLOMBERIE ELECTRICITE MENUISERIE MACONNERIE PEINTURE COIFFURE"
    " INSTITUT CABINET AGENCE IMMOBILIER HOTEL RESTAURANT BRASSERIE CAFE TABAC LIBRAIRIE"
    " IMPRIMERIE FLEURS OPTIQUE CONSEIL INFORMATIQUE SERVICES NETTOYAGE JARDINS PAYSAGES"
    " CONSTRUCTION RENOVATION AUTO CYCLES SPORTS"
)
SURNAMES = words(
    "MARTIN BERNARD THOMAS PETIT ROBERT RICHARD DURAND DUBOIS MOREAU LAURENT SIMON MICHEL"
    " LEFEBVRE LEROY ROUX DAVID BERTRAND MOREL FOURNIER GIRARD BONNET DUPONT LAMBERT"
    " FONTAINE ROUSSEAU VINCENT MULLER LEFEVRE FAURE ANDRE MERCIER BLANC GUERIN BOYER"
    " GARNIER CHEVALIER FRANCOIS LEGRAND GAUTHIER GARCIA PERRIN ROBIN CLEMENT MORIN"
    " NICOLAS HENRY ROUSSEL MATHIEU GAUTIER MASSON MARCHAND DUVAL DENIS DUMONT MARIE"
    " LEMAIRE NOEL MEYER DUFOUR MEUNIER BRUN BLANCHARD GIRAUD JOLY RIVIERE LUCAS BRUNET"
    " GAILLARD BARBIER ARNAUD MARTINEZ GERARD ROCHE RENARD SCHMITT ROY LEROUX COLIN"
    " VIDAL CARON PICARD ROGER FABRE AUBERT LEMOINE RENAUD DUMAS LACROIX OLIVIER PHILIPPE"
    " BOURGEOIS PIERRE BENOIT REY LECLERC PAYET ROLLAND LECLERCQ GUILLAUME LECOMTE LOPEZ"
    " JEAN DUPUY GUILLOT HUBERT BERGER CARPENTIER SANCHEZ DUPUIS MOULIN LOUIS DESCHAMPS"
)
SYLLABLES = words(
    "BA BE BO BRI CA CHA CO DA DE DU FA FO GA GE LA LE LO MA ME MO NA NE NI PA PE RA RE RO SA"
    " SE TA TE VA VI"
)
FIRST_NAMES = words(
    "MARIE JEAN PIERRE MICHEL ANNE PHILIPPE NATHALIE ISABELLE ALAIN CATHERINE NICOLAS"
    " SOPHIE DAVID JULIE THOMAS CAMILLE LUCAS EMMA LEA HUGO CHLOE LOUIS MANON PAUL"
)
TOWNS = [
    ("75011", "PARIS 11"), ("69003", "LYON 3EME"), ("13001", "MARSEILLE 1ER"),
    ("31000", "TOULOUSE"), ("06000", "NICE"), ("44000", "NANTES"), ("67000", "STRASBOURG"),
    ("34000", "MONTPELLIER"), ("33000", "BORDEAUX"), ("59000", "LILLE"), ("35000", "RENNES"),
    ("51100", "REIMS"), ("42000", "SAINT-ETIENNE"), ("83000", "TOULON"), ("38000", "GRENOBLE"),
    ("21000", "DIJON"), ("49000", "ANGERS"), ("30000", "NIMES"), ("63000", "CLERMONT-FERRAND"),
    ("72000", "LE MANS"), ("29200", "BREST"), ("37000", "TOURS"), ("80000", "AMIENS"),
    ("87000", "LIMOGES"), ("74000", "ANNECY"), ("66000", "PERPIGNAN"), ("57000", "METZ"),
]  # fmt: skip
STREET_TYPES = ["RUE", "AV", "BD", "PL", "CHE", "ALL", "IMP", "RTE", "QUAI"]


def surnames(count: int = 3000) -> list[str]:
    """Common surnames first, then made-up ones: a few thousand, like a real register."""
    rng = random.Random(1)
    made = set(SURNAMES)
    names = list(SURNAMES)
    while len(names) < count:
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3, 3, 4))))
        if name not in made:
            made.add(name)
            names.append(name)
    return names


def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = ord(ch) - 48
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str(-total % 10)


def generate(folder: Path, rows: int, seed: int) -> tuple[Path, Path, list[str]]:
    """The two files; returns their paths and a sample of SIRETs (for lookups)."""
    from chorus_cli.sirene.columns import ETABLISSEMENT_HEADER, UNITE_LEGALE_HEADER

    rng = random.Random(seed)
    names = surnames()
    weights = [1 / (rank + 10) for rank in range(len(names))]  # Zipf-like
    cumulative = [0.0]
    for w in weights:
        cumulative.append(cumulative[-1] + w)

    def surname() -> str:
        x = rng.random() * cumulative[-1]
        lo, hi = 0, len(names)
        while lo < hi:  # bisect by hand: no import in the hot loop
            mid = (lo + hi) // 2
            if cumulative[mid + 1] < x:
                lo = mid + 1
            else:
                hi = mid
        return names[min(lo, len(names) - 1)]

    e_at = {name: i for i, name in enumerate(ETABLISSEMENT_HEADER)}
    u_at = {name: i for i, name in enumerate(UNITE_LEGALE_HEADER)}
    establishments = folder / "StockEtablissement_utf8.csv"
    units = folder / "StockUniteLegale_utf8.csv"
    sample: list[str] = []
    written = 0
    unit_number = 0
    with (
        open(establishments, "w", newline="", encoding="utf-8") as e_file,
        open(units, "w", newline="", encoding="utf-8") as u_file,
    ):
        e_out = csv.writer(e_file, lineterminator="\n")
        u_out = csv.writer(u_file, lineterminator="\n")
        e_out.writerow(ETABLISSEMENT_HEADER)
        u_out.writerow(UNITE_LEGALE_HEADER)
        blank_e = [""] * len(ETABLISSEMENT_HEADER)
        blank_u = [""] * len(UNITE_LEGALE_HEADER)
        while written < rows:
            unit_number += 1
            body = f"{10_000_000 + unit_number * 7:08d}"
            siren = body + luhn_digit(body)
            kind = rng.random()
            u = blank_u[:]
            u[u_at["siren"]] = siren
            u[u_at["statutDiffusionUniteLegale"]] = "P" if rng.random() < 0.02 else "O"
            u[u_at["dateCreationUniteLegale"]] = (
                f"{rng.randint(1970, 2024)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
            )
            u[u_at["etatAdministratifUniteLegale"]] = "A"
            if kind < 0.25:  # an entrepreneur individuel
                u[u_at["nomUniteLegale"]] = surname()
                u[u_at["prenom1UniteLegale"]] = rng.choice(FIRST_NAMES)
                u[u_at["categorieJuridiqueUniteLegale"]] = "1000"
            elif kind < 0.30:
                u[u_at["denominationUniteLegale"]] = (
                    f"ASSOCIATION {rng.choice(ACTIVITIES)} {rng.choice(TOWNS)[1]}"
                )
                u[u_at["categorieJuridiqueUniteLegale"]] = "9220"
            elif kind < 0.31:
                u[u_at["denominationUniteLegale"]] = f"COMMUNE DE {surname()}-SUR-{surname()}"
                u[u_at["categorieJuridiqueUniteLegale"]] = "7210"
            else:
                pattern = rng.random()
                if pattern < 0.5:
                    name = f"{rng.choice(ACTIVITIES)} {surname()}"
                elif pattern < 0.75:
                    name = f"{surname()} ET FILS"
                else:
                    name = f"{surname()} {rng.choice(ACTIVITIES)} {surname()}"
                u[u_at["denominationUniteLegale"]] = name
                u[u_at["categorieJuridiqueUniteLegale"]] = rng.choice(("5499", "5710", "5720"))
            u_out.writerow(u)
            count = 1 if rng.random() < 0.8 else rng.choice((2, 2, 3, 4, 6, 12))
            for nic_number in range(1, count + 1):
                if written >= rows:
                    break
                nic_body = f"{nic_number:04d}"
                siret = siren + nic_body + luhn_digit(siren + nic_body)
                e = blank_e[:]
                postal, town = rng.choice(TOWNS)
                e[e_at["siren"]], e[e_at["nic"]], e[e_at["siret"]] = siren, siret[9:], siret
                e[e_at["statutDiffusionEtablissement"]] = u[u_at["statutDiffusionUniteLegale"]]
                e[e_at["dateCreationEtablissement"]] = u[u_at["dateCreationUniteLegale"]]
                e[e_at["trancheEffectifsEtablissement"]] = "NN"
                e[e_at["etablissementSiege"]] = "true" if nic_number == 1 else "false"
                e[e_at["nombrePeriodesEtablissement"]] = "1"
                e[e_at["numeroVoieEtablissement"]] = str(rng.randint(1, 240))
                e[e_at["typeVoieEtablissement"]] = rng.choice(STREET_TYPES)
                e[e_at["libelleVoieEtablissement"]] = f"DE LA {surname()}"
                e[e_at["codePostalEtablissement"]] = postal
                e[e_at["libelleCommuneEtablissement"]] = town
                e[e_at["codeCommuneEtablissement"]] = postal
                e[e_at["coordonneeLambertAbscisseEtablissement"]] = (
                    f"{rng.randint(100000, 1200000)}.0"
                )
                e[e_at["coordonneeLambertOrdonneeEtablissement"]] = (
                    f"{rng.randint(6000000, 7100000)}.0"
                )
                e[e_at["dateDebut"]] = "2020-01-01"
                e[e_at["etatAdministratifEtablissement"]] = "F" if rng.random() < 0.45 else "A"
                if rng.random() < 0.15:
                    place = rng.choice(("CENTRE", "PORT", "MARCHE", "PARC"))
                    e[e_at["enseigne1Etablissement"]] = f"{rng.choice(ACTIVITIES)} DU {place}"
                e[e_at["activitePrincipaleEtablissement"]] = "47.11B"
                e[e_at["nomenclatureActivitePrincipaleEtablissement"]] = "NAFRev2"
                e[e_at["caractereEmployeurEtablissement"]] = "N"
                e_out.writerow(e)
                written += 1
                if written % 4999 == 0:
                    sample.append(siret)
    return establishments, units, sample


def search_queries(count: int, seed: int) -> list[tuple[str, str]]:
    """(kind, text): what people type to find a structure."""
    rng = random.Random(seed + 1)
    names = surnames()
    queries = []
    kinds = ("name", "word+prefix", "prefix")
    for i in range(count):
        kind = kinds[i % 3]
        last = rng.choice(names)
        if kind == "name":
            text = f"{rng.choice(ACTIVITIES)} {last}"
        elif kind == "word+prefix":
            text = f"{rng.choice(ACTIVITIES)} {last[:3]}"
        else:
            text = last[:4]
        queries.append((kind, text))
    return queries


# --- processes and timing ---------------------------------------------------------------


def floor_import(sqlite3: str, folder: Path, files: list[Path]) -> float:
    database = folder / "floor.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    commands = [f".import --csv {path} t{i}" for i, path in enumerate(files)]
    argv = [sqlite3, "-cmd", "PRAGMA journal_mode=WAL", str(database), *commands]
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - start


def latencies(store_url: str, sirets: list[str], queries: list[tuple[str, str]]) -> dict:
    """Median and p95 milliseconds of lookup and search, called in this process."""
    from chorus_cli.config import Settings
    from chorus_cli.domain import sirene as service
    from chorus_cli.domain.sirene import find as lookup
    from chorus_cli.kernel.clock import SystemClock
    from chorus_cli.store.uow import UnitOfWork

    def summary(values: list[float]) -> dict:
        values = sorted(values)
        return {
            "median_ms": round(statistics.median(values) * 1000, 3),
            "p95_ms": round(values[int(len(values) * 0.95) - 1] * 1000, 3),
            "max_ms": round(values[-1] * 1000, 3),
            "calls": len(values),
        }

    results: dict = {}
    with UnitOfWork(Settings(database_url=store_url), SystemClock()) as uow:
        lookup(uow, sirets[0])  # warm: the statement, stdnum, the page cache
        service.search(uow, "warm up", 20)
        hits, misses = [], []
        for siret in sirets:
            start = time.perf_counter()
            found = lookup(uow, siret)
            hits.append(time.perf_counter() - start)
            assert found is not None, siret
        for siret in sirets:  # same SIRENs, a NIC no establishment has
            absent = siret[:9] + "9999"
            absent += luhn_digit(absent)
            start = time.perf_counter()
            lookup(uow, absent)
            misses.append(time.perf_counter() - start)
        results["lookup (found)"] = summary(hits)
        results["lookup (absent, no API key)"] = summary(misses)
        by_kind: dict[str, list[float]] = {}
        counts: dict[str, list[int]] = {}
        for kind, text in queries:
            start = time.perf_counter()
            rows, _truncated = service.search(uow, text, 20)
            by_kind.setdefault(kind, []).append(time.perf_counter() - start)
            counts.setdefault(kind, []).append(len(rows))
        everything = [t for values in by_kind.values() for t in values]
        results["search (all)"] = summary(everything)
        for kind, values in by_kind.items():
            results[f"search ({kind})"] = summary(values) | {
                "median_results": statistics.median(counts[kind])
            }
    return results


# --- report -------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--out", type=Path, default=HERE / "results-sirene.json")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder.")
    options = parser.parse_args()

    sqlite3 = shutil.which("sqlite3")
    if not sqlite3:
        raise SystemExit(
            "the sqlite3 command-line shell is needed for the floor: apt install sqlite3"
        )
    if not Path(CHORUS).exists():
        raise SystemExit(f"{CHORUS} not found: run `make bench` (it installs chorus first)")

    tmp = Path(tempfile.mkdtemp(prefix="chorus-sirene-bench-"))
    try:
        started = time.perf_counter()
        establishments, units, sirets = generate(tmp, options.rows, options.seed)
        generated = time.perf_counter() - started
        sizes = {p.name: p.stat().st_size for p in (establishments, units)}
        print(f"generated {options.rows:,} establishments in {generated:.1f} s: {sizes}")

        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CHORUS_", "PYTHON_KEYRING", "DBUS_SESSION"))
        }
        store = tmp / "store" / "chorus.db"
        store.parent.mkdir(parents=True, exist_ok=True)  # SEC-6: chorus creates no folder
        env.update(
            CHORUS_DATABASE_URL=f"sqlite:///{store}",
            CHORUS_DATA_DIR=str(tmp / "home"),
            XDG_DATA_HOME=str(tmp / "xdg"),
        )
        operator_session(env, ADMIN)

        floor_e = floor_import(sqlite3, tmp, [establishments])
        wall_e, peak_e, _ = run_measured([CHORUS, "sirene", "import", str(establishments)], env)
        floor_all = floor_import(sqlite3, tmp, [establishments, units])
        wall_all, peak_all, _ = run_measured(
            [CHORUS, "sirene", "import", str(establishments), "--unites-legales", str(units)],
            env,
        )
        (tmp / "floor.db").unlink(missing_ok=True)
        store_mb = round(store.stat().st_size / 1e6, 1)

        os.environ.update(CHORUS_DATA_DIR=str(tmp / "home"), XDG_DATA_HOME=str(tmp / "xdg"))
        os.environ.pop("PYTHON_KEYRING_BACKEND", None)
        queries = search_queries(options.calls, options.seed)
        lat = latencies(f"sqlite:///{store}", sirets[: options.calls], queries)
    finally:
        if not options.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    imports = [
        {
            "name": "chorus sirene import (establishments)",
            "seconds": round(wall_e, 2),
            "rows_per_s": round(options.rows / wall_e),
            "floor": "sqlite3 .import --csv (establishments)",
            "floor_seconds": round(floor_e, 2),
            "ratio": round(wall_e / floor_e, 2),
            "goal": 2.0,
            "ok": wall_e / floor_e <= 2.0,
            "peak_rss_mb": round(peak_e / 1024, 1),
        },
        {
            "name": "chorus sirene import --unites-legales (re-import)",
            "seconds": round(wall_all, 2),
            "rows_per_s": round(options.rows / wall_all),
            "floor": "sqlite3 .import --csv (both files)",
            "floor_seconds": round(floor_all, 2),
            "ratio": round(wall_all / floor_all, 2),
            "goal": 2.0,
            "ok": wall_all / floor_all <= 2.0,
            "peak_rss_mb": round(peak_all / 1024, 1),
        },
    ]
    header = (
        f"{'import':<50} {'s':>7} {'rows/s':>9} {'floor s':>8} {'ratio':>6} {'goal':>5}"
        f"  verdict  {'peak MB':>7}"
    )
    print(header)
    print("-" * len(header))
    for row in imports:
        print(
            f"{row['name']:<50} {row['seconds']:>7.2f} {row['rows_per_s']:>9,} "
            f"{row['floor_seconds']:>8.2f} {row['ratio']:>5.2f}x {row['goal']:>4.1f}x  "
            f"{'ok' if row['ok'] else 'OVER':<7}  {row['peak_rss_mb']:>7.1f}"
        )
    print()
    header = (
        f"{'latency (in process, 1M-row index)':<40} {'median ms':>9} {'p95 ms':>8}"
        f" {'max ms':>8}  goal  verdict"
    )
    print(header)
    print("-" * len(header))
    over = [row["name"] for row in imports if not row["ok"]]
    for name, figures in lat.items():
        ok = figures["median_ms"] < 10
        figures["goal_ms"] = 10
        figures["ok"] = ok
        if not ok:
            over.append(name)
        print(
            f"{name:<40} {figures['median_ms']:>9.3f} {figures['p95_ms']:>8.3f} "
            f"{figures['max_ms']:>8.3f}  <10   {'ok' if ok else 'OVER'}"
        )
    print()
    print(f"store after both imports: {store_mb} MB; files: {sizes}")
    results = {
        "rows": options.rows,
        "seed": options.seed,
        "python": platform.python_version(),
        "sqlite": __import__("sqlite3").sqlite_version,
        "cpus": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),
        "files_bytes": sizes,
        "store_mb": store_mb,
        "imports": imports,
        "latency": lat,
    }
    return report(options.out, over, results)


# --- import --departments (issue 21, item 2): a correspondent's départements only --------


def departments_figures(
    folder: Path, establishments: Path, units: Path, env: dict[str, str], codes: str, rows: int
) -> list[dict]:
    """``chorus sirene import --departments`` of the generated file, with and without the
    legal units, beside three floors measured in the same run: reading the file's lines
    as text in Python (what passing over a line cannot beat), ``sqlite3 .import`` of it,
    and the same import without ``--departments``. Each run in a fresh process."""
    sqlite3 = shutil.which("sqlite3") or "sqlite3"
    read = [
        sys.executable,
        "-c",
        f"sum(1 for _ in open({str(establishments)!r}, encoding='utf-8', newline=''))",
    ]
    read_s, _, _ = run_measured(read, env)
    floor_s = floor_import(sqlite3, folder, [establishments])
    (folder / "floor.db").unlink(missing_ok=True)
    figures = []
    for label, extra in (
        ("establishments", []),
        ("with --unites-legales", ["--unites-legales", str(units)]),
    ):
        argv = [CHORUS, "sirene", "import", str(establishments), "--departments", codes, *extra]
        wall, peak, err = run_measured(argv, env)
        kept = re.search(r"([\d\s,.\u202f]+?) (?:establishments kept|établissements gardés)", err)
        figures.append(
            {
                "name": f"import --departments {codes} ({label})",
                "seconds": round(wall, 2),
                "kept": int(re.sub(r"\D", "", kept.group(1))) if kept else None,
                "rows_per_s": round(rows / wall),
                "peak_rss_mb": round(peak / 1024, 1),
                "read_lines_s": round(read_s, 2),
                "ratio_to_reading": round(wall / read_s, 2),
                "sqlite3_import_s": round(floor_s, 2),
                "ratio_to_sqlite3_import": round(wall / floor_s, 2),
            }
        )
    # Last: an import replaces the previous index and drops it, which a full one would
    # make the --departments runs pay for.
    full_s, full_peak, _ = run_measured([CHORUS, "sirene", "import", str(establishments)], env)
    for row in figures:
        row.update(
            full_import_s=round(full_s, 2),
            ratio_to_full_import=round(row["seconds"] / full_s, 2),
            full_import_peak_mb=round(full_peak / 1024, 1),
        )
    return figures


def departments_main() -> int:
    """``benchmarks/sirene.py --departments 38,73 [--rows N] [--folder DIR]``: only the
    ``--departments`` figures (opt-in; 1M rows take about two minutes)."""
    parser = argparse.ArgumentParser(description=departments_main.__doc__)
    parser.add_argument("--departments", default="38,73")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--folder", type=Path, default=None, help="Where the files go.")
    parser.add_argument("--out", type=Path, default=HERE / "results-sirene-departments.json")
    options = parser.parse_args()
    if options.folder is not None:
        options.folder.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="chorus-sirene-departments-", dir=options.folder))
    try:
        establishments, units, _ = generate(tmp, options.rows, options.seed)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("CHORUS_", "PYTHON_KEYRING", "DBUS_SESSION"))
        }
        store = tmp / "store" / "chorus.db"
        store.parent.mkdir(parents=True, exist_ok=True)
        env.update(
            CHORUS_DATABASE_URL=f"sqlite:///{store}",
            CHORUS_DATA_DIR=str(tmp / "home"),
            XDG_DATA_HOME=str(tmp / "xdg"),
            CHORUS_LANG="en",
        )
        operator_session(env, ADMIN)
        figures = departments_figures(
            tmp, establishments, units, env, options.departments, options.rows
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for row in figures:
        print(
            f"{row['name']:<52} {row['seconds']:>7.2f} s  kept {row['kept']}  "
            f"{row['ratio_to_reading']:.2f}x reading the lines, "
            f"{row['ratio_to_sqlite3_import']:.2f}x sqlite3 .import, "
            f"{row['ratio_to_full_import']:.2f}x the full import  peak {row['peak_rss_mb']} MB"
        )
    return report(options.out, [], {"rows": options.rows, "departments": figures})


if __name__ == "__main__":
    sys.exit(departments_main() if "--departments" in sys.argv[1:] else main())
