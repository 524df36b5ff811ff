"""SIRENE benchmark: import rate on a generated 1,000,000-row stock file, and lookup /
search latency on the index it builds (STR-2); and the opt-in scale run.

    .venv/bin/python benchmarks/sirene.py [--rows 1000000] [--seed 7] [--calls 200]
                                          [--out benchmarks/results-sirene.json]
    .venv/bin/python benchmarks/sirene.py --scale 10000000 --dir /big/disk/folder
                                          [--pg-rows N]... [--no-postgresql] [--keep]
    (or: make bench-sirene-scale [SCALE_ROWS=40000000] [SCALE_DIR=/big/disk/folder])

- Generates StockEtablissement.csv (``--rows`` establishments) and StockUniteLegale.csv
  (about 0.7 unit per establishment, as in the national files) in INSEE's layout,
  deterministically and streamed to disk (~1 million rows in 10 s): French-looking names,
  words drawn with a Zipf-like skew (BOULANGERIE, SAVOIE, MARTIN, MAIRIE are common, tens
  of thousands of surnames make a rare tail), one word in five with its accents, 45 %
  closed establishments, 2 % non-diffusible.
- Floor, in the same run: `sqlite3`'s own `.import --csv` of the same file into a plain
  table (WAL, like the store). Goal: `chorus sirene import` within 2x of it. The chorus
  figure is the whole command in a fresh process, as a user runs it: start-up, session
  check, parsing, load, full-text index, swap.
- Then `--unites-legales` too (a re-import: the first index is replaced), against the
  floor of importing both files.
- Latency: `chorus_cli.domain.sirene.find` and the search behind `chorus sirene search`,
  called in this process on the 1M-row index; medians (and p95) over ``--calls`` calls.
  Goal: < 10 ms each.
- ``--scale N``: the 1-million-row run and the N-row run, each with both files: import
  within 1.5x of `sqlite3 .import` of both files, peak memory within 1.3x of the 1M run,
  at N rows `sirene lookup` p95 < 1 ms and `sirene search` p95 < 10 ms (``--calls``
  queries: two common words, a word and a prefix, a prefix, accents, one common word,
  rare names), the index's size on disk; the same import on PostgreSQL at 1M and N
  rows (or each ``--pg-rows``; a throwaway cluster, as the tests start) within 2x of
  SQLite's, in wall time and in CPU time (chorus's and the server's). With ``--keep``
  the generated files stay, and a later run with the same ``--dir`` uses them again.
  Written to results-sirene-scale.json.

Exits 0 even when a figure is over its goal: this is a report.
"""

from __future__ import annotations

import argparse
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
from bisect import bisect
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from benchmarks.harness import (  # noqa: E402
    CHORUS,
    clean_env,
    operator_session,
    report,
    run_measured,
    run_usage,
)

ADMIN = "bench.sirene@example.fr"

# --- a deterministic stock file in INSEE's layout -------------------------------------


def words(text: str) -> list[str]:
    return text.split()


# Each list is in order of frequency: the n-th word is drawn with weight 1 / (n + 2)
# (Zipf-like), so BOULANGERIE, SAVOIE or MARTIN are common and the tail is rare.
ACTIVITIES = words(
    "BOULANGERIE TRANSPORTS GARAGE RESTAURANT BOUCHERIE PHARMACIE COIFFURE CAFE"
    " IMMOBILIER CONSEIL PATISSERIE BOULANGERIE-PATISSERIE MACONNERIE PLOMBERIE"
    " ELECTRICITE MENUISERIE PEINTURE CHARCUTERIE TAXI AMBULANCES CARROSSERIE INSTITUT"
    " CABINET AGENCE HOTEL BRASSERIE TABAC LIBRAIRIE IMPRIMERIE FLEURS OPTIQUE"
    " INFORMATIQUE SERVICES NETTOYAGE JARDINS PAYSAGES CONSTRUCTION RENOVATION AUTO"
    " CYCLES SPORTS EPICERIE FROMAGERIE CREPERIE PIZZERIA ARCHITECTURE"
)
# How INSEE's files write some of them now and then: with their accents.
ACCENTED = {
    "CAFE": "CAFÉ",
    "PATISSERIE": "PÂTISSERIE",
    "BOULANGERIE-PATISSERIE": "BOULANGERIE-PÂTISSERIE",
    "ELECTRICITE": "ÉLECTRICITÉ",
    "MACONNERIE": "MAÇONNERIE",
    "HOTEL": "HÔTEL",
    "RENOVATION": "RÉNOVATION",
    "EPICERIE": "ÉPICERIE",
    "CREPERIE": "CRÊPERIE",
    "ISERE": "ISÈRE",
    "DAUPHINE": "DAUPHINÉ",
    "VENDEE": "VENDÉE",
    "CHAMBERY": "CHAMBÉRY",
    "ARIEGE": "ARIÈGE",
}
PLACES = words(
    "SAVOIE ALPES PROVENCE BRETAGNE HAUTE-SAVOIE NORMANDIE ISERE ATLANTIQUE DAUPHINE"
    " ALSACE LORRAINE AQUITAINE OCCITANIE BOURGOGNE CHAMPAGNE PICARDIE AUVERGNE VENDEE"
    " LIMOUSIN CORSE SOLOGNE BEAUJOLAIS CHAMBERY ANNECY GRENOBLE LYON PARIS MARSEILLE"
    " ARIEGE VERCORS CHARTREUSE MAURIENNE TARENTAISE CHABLAIS BAUGES"
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
    " SE TA TE VA VI ZU KE TRI"
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
    ("73000", "CHAMBERY"), ("73100", "AIX-LES-BAINS"), ("38100", "GRENOBLE"),
]  # fmt: skip
STREET_TYPES = ["RUE", "AV", "BD", "PL", "CHE", "ALL", "IMP", "RTE", "QUAI"]
SIGN_PLACES = ["DU CENTRE", "DU PORT", "DU MARCHE", "DU PARC", "DU LAC", "DE LA GARE"]


def surnames(count: int = 20_000) -> list[str]:
    """Common surnames first, then made-up ones: tens of thousands, like a register,
    whose tail is rare (a handful of names each at 10 million rows)."""
    rng = random.Random(1)
    made = set(SURNAMES)
    names = list(SURNAMES)
    while len(names) < count:
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3, 3, 4, 4))))
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


# The Luhn sum of every 4 digits whose last digit is doubled: a body's sum is that of
# its 4-digit groups from the right (each ends on a doubled digit).
_LUHN4 = [0] * 10_000
for _n in range(10_000):
    _LUHN4[_n] = -int(luhn_digit(f"{_n:04d}")) % 10


def _check(body: int) -> int:
    total = 0
    while body:
        total += _LUHN4[body % 10_000]
        body //= 10_000
    return -total % 10


class Zipf:
    """Draws from ``items``, the n-th with weight 1 / (n + 2)."""

    def __init__(self, items: list[str], rng: random.Random) -> None:
        self.items = items
        self.cumulative: list[float] = []
        total = 0.0
        for rank in range(len(items)):
            total += 1 / (rank + 2)
            self.cumulative.append(total)
        self.total = total
        self.random = rng.random

    def __call__(self) -> str:
        return self.items[
            min(bisect(self.cumulative, self.random() * self.total), len(self.items) - 1)
        ]


def _template(header: tuple[str, ...], filled: list[str], constant: dict[str, str]) -> str:
    """A %-format line of ``header``: ``%s`` in the ``filled`` columns (in order), the
    ``constant`` ones written in."""
    fields = [constant.get(name, "") for name in header]
    positions = [header.index(name) for name in filled]
    assert positions == sorted(positions), "fill the columns in the header's order"
    for position in positions:
        fields[position] = "%s"
    return ",".join(fields) + "\n"


UNIT_COLUMNS = [
    "siren",
    "statutDiffusionUniteLegale",
    "dateCreationUniteLegale",
    "prenom1UniteLegale",
    "etatAdministratifUniteLegale",
    "nomUniteLegale",
    "denominationUniteLegale",
    "categorieJuridiqueUniteLegale",
]
ESTABLISHMENT_COLUMNS = [
    "siren",
    "nic",
    "siret",
    "statutDiffusionEtablissement",
    "dateCreationEtablissement",
    "etablissementSiege",
    "numeroVoieEtablissement",
    "typeVoieEtablissement",
    "libelleVoieEtablissement",
    "codePostalEtablissement",
    "libelleCommuneEtablissement",
    "codeCommuneEtablissement",
    "coordonneeLambertAbscisseEtablissement",
    "coordonneeLambertOrdonneeEtablissement",
    "etatAdministratifEtablissement",
    "denominationUsuelleEtablissement",
]
# The columns chorus does not read, as INSEE fills them (the rows have their real size).
UNIT_CONSTANT = {
    "trancheEffectifsUniteLegale": "NN",
    "dateDernierTraitementUniteLegale": "2025-03-14T10:12:45",
    "nombrePeriodesUniteLegale": "1",
    "categorieEntreprise": "PME",
    "anneeCategorieEntreprise": "2022",
    "dateDebut": "2020-01-01",
    "activitePrincipaleUniteLegale": "47.11B",
    "nomenclatureActivitePrincipaleUniteLegale": "NAFRev2",
    "nicSiegeUniteLegale": "00017",
    "economieSocialeSolidaireUniteLegale": "N",
    "caractereEmployeurUniteLegale": "N",
    "activitePrincipaleNAF25UniteLegale": "47.11Y",
}
ESTABLISHMENT_CONSTANT = {
    "trancheEffectifsEtablissement": "NN",
    "dateDernierTraitementEtablissement": "2025-03-14T10:12:45",
    "nombrePeriodesEtablissement": "1",
    "dateDebut": "2020-01-01",
    "activitePrincipaleEtablissement": "47.11B",
    "nomenclatureActivitePrincipaleEtablissement": "NAFRev2",
    "caractereEmployeurEtablissement": "N",
    "activitePrincipaleNAF25Etablissement": "47.11Y",
}


def generate(folder: Path, rows: int, seed: int) -> tuple[Path, Path, list[str]]:
    """The two files, streamed to disk (about 1 million rows each 10 s); returns their
    paths and a sample of SIRETs (for lookups). Deterministic for a seed and a size."""
    from chorus_cli.sirene.columns import ETABLISSEMENT_HEADER, UNITE_LEGALE_HEADER

    rng = random.Random(seed)
    rand, randint, choice = rng.random, rng.randrange, rng.choice
    surname = Zipf(surnames(), rng)
    activity = Zipf(ACTIVITIES, rng)
    place = Zipf(PLACES, rng)
    first_name = Zipf(FIRST_NAMES, rng)

    def accents(word: str) -> str:  # one time in five, as INSEE now writes some names
        return ACCENTED.get(word, word) if rand() < 0.2 else word

    u_line = _template(UNITE_LEGALE_HEADER, UNIT_COLUMNS, UNIT_CONSTANT)
    e_line = _template(ETABLISSEMENT_HEADER, ESTABLISHMENT_COLUMNS, ESTABLISHMENT_CONSTANT)
    establishments = folder / "StockEtablissement_utf8.csv"
    units = folder / "StockUniteLegale_utf8.csv"
    sample: list[str] = []
    # every 4,999th row (200 at a million rows, as the recorded results), denser below
    # so that a small run (--rows 3000) still has SIRETs to look up
    every = min(4999, max(1, rows // 200))
    written = 0
    unit_number = 0
    with (
        open(establishments, "w", newline="", encoding="utf-8") as e_file,
        open(units, "w", newline="", encoding="utf-8") as u_file,
    ):
        e_file.write(",".join(ETABLISSEMENT_HEADER) + "\n")
        u_file.write(",".join(UNITE_LEGALE_HEADER) + "\n")
        e_lines: list[str] = []
        u_lines: list[str] = []
        while written < rows:
            unit_number += 1
            body = 10_000_000 + unit_number * 3  # 8 digits up to 30 million units
            siren = f"{body}{_check(body)}"
            status = "P" if rand() < 0.02 else "O"
            created = f"{1970 + randint(55)}-0{1 + randint(9)}-1{randint(10)}"
            kind = rand()
            first = last = name = sign = ""
            commune = False
            if kind < 0.25:  # an entrepreneur individuel
                last, first, category = surname(), first_name(), "1000"
            elif kind < 0.30:
                name = f"ASSOCIATION {accents(activity())} {accents(place())}"
                category = "9220"
            elif kind < 0.31:
                name = f"COMMUNE DE {surname()}-SUR-{surname()}"
                category = "7210"
                commune = True
            else:
                pattern = rand()
                if pattern < 0.30:
                    name = f"{accents(activity())} {surname()}"
                elif pattern < 0.45:
                    name = f"{surname()} ET FILS" if rand() < 0.6 else f"ETS {surname()}"
                elif pattern < 0.60:
                    name = f"SCI {surname()}" if rand() < 0.7 else f"SCI {accents(place())}"
                elif pattern < 0.75:
                    name = f"{accents(activity())} DE {accents(place())}"
                elif pattern < 0.85:
                    name = f"{surname()} {accents(activity())} {surname()}"
                else:
                    name = f"{accents(activity())} {accents(place())} {surname()}"
                category = choice(("5499", "5710", "5720", "6540"))
            u_lines.append(u_line % (siren, status, created, first, "A", last, name, category))
            count = 1 if rand() < 0.8 else choice((2, 2, 3, 4, 6, 12))
            if commune:
                count = 2 + randint(6)
            for nic_number in range(1, count + 1):
                if written >= rows:
                    break
                nic = f"{nic_number:04d}"
                siret_body = body * 100_000 + _check(body) * 10_000 + nic_number
                siret = f"{siren}{nic}{_check(siret_body)}"
                postal, town = choice(TOWNS)
                if commune:
                    sign = "MAIRIE" if nic_number == 1 else f"ECOLE {surname()}"
                elif rand() < 0.15:
                    sign = f"{accents(activity())} {choice(SIGN_PLACES)}"
                else:
                    sign = ""
                e_lines.append(
                    e_line
                    % (
                        siren,
                        nic + siret[-1],
                        siret,
                        status,
                        created,
                        "true" if nic_number == 1 else "false",
                        1 + randint(240),
                        choice(STREET_TYPES),
                        f"DE LA {surname()}",
                        postal,
                        town,
                        postal,
                        f"{100000 + randint(1100000)}.0",
                        f"{6000000 + randint(1100000)}.0",
                        "F" if rand() < 0.45 else "A",
                        sign,
                    )
                )
                written += 1
                if written % every == 0:
                    sample.append(siret)
            if len(e_lines) >= 20_000:
                e_file.writelines(e_lines)
                u_file.writelines(u_lines)
                e_lines.clear()
                u_lines.clear()
        e_file.writelines(e_lines)
        u_file.writelines(u_lines)
    return establishments, units, sample


def search_queries(count: int, seed: int) -> list[tuple[str, str]]:
    """(kind, text): what people type to find a structure. Two common words
    (« boulangerie savoie »), a word and a prefix, a prefix alone, accents typed or
    not, one common word, and rare names (the tail of the surnames)."""
    rng = random.Random(seed + 1)
    names = surnames()
    common_activity = ACTIVITIES[:12]
    common_place = PLACES[:10]
    queries = []
    kinds = ("two common", "word+prefix", "prefix", "accents", "one common", "rare")
    for i in range(count):
        kind = kinds[i % len(kinds)]
        if kind == "two common":
            text = f"{rng.choice(common_activity)} {rng.choice(common_place)}".lower()
        elif kind == "word+prefix":
            text = f"{rng.choice(ACTIVITIES)} {rng.choice(names[:500])[:3]}".lower()
        elif kind == "prefix":
            text = rng.choice((rng.choice(names[:2000]), rng.choice(ACTIVITIES)))[:4].lower()
        elif kind == "accents":
            word = rng.choice([w for w in ACCENTED if ACCENTED[w] != w])
            other = rng.choice(PLACES if word in ACTIVITIES else ACTIVITIES)
            text = f"{ACCENTED[word].lower()} {other.capitalize()}"
        elif kind == "one common":
            text = rng.choice(("mairie", "boulangerie", "sci", "transports", "savoie", "martin"))
        else:
            text = rng.choice(names[10_000:]).lower()
            if rng.random() < 0.5:
                text = f"{rng.choice(ACTIVITIES).lower()} {text}"
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
    """Median and p95 milliseconds of lookup and search, called in this process: wall
    time, and this thread's CPU time (``*_cpu_ms``: what holds on a shared machine,
    where the wall time measures the neighbours too)."""
    from chorus_cli.config import Settings
    from chorus_cli.domain import sirene as service
    from chorus_cli.domain.sirene import find as lookup
    from chorus_cli.kernel.clock import SystemClock
    from chorus_cli.store.uow import UnitOfWork

    def summary(values: list[tuple[float, float]]) -> dict:
        walls = sorted(wall for wall, _ in values)
        cpus = sorted(cpu for _, cpu in values)
        at = int(len(values) * 0.95) - 1
        return {
            "median_ms": round(statistics.median(walls) * 1000, 3),
            "p95_ms": round(walls[at] * 1000, 3),
            "max_ms": round(walls[-1] * 1000, 3),
            "median_cpu_ms": round(statistics.median(cpus) * 1000, 3),
            "p95_cpu_ms": round(cpus[at] * 1000, 3),
            "calls": len(values),
        }

    def timed(call):  # type: ignore[no-untyped-def]
        wall, cpu = time.perf_counter(), time.thread_time()
        result = call()
        return result, (time.perf_counter() - wall, time.thread_time() - cpu)

    results: dict = {}
    with UnitOfWork(Settings(database_url=store_url), SystemClock()) as uow:
        lookup(uow, sirets[0])  # warm: the statement, stdnum, the page cache
        service.search(uow, "warm up", 20)
        hits, misses = [], []
        for siret in sirets:
            found, spent = timed(lambda s=siret: lookup(uow, s))
            hits.append(spent)
            assert found is not None, siret
        for siret in sirets:  # same SIRENs, a NIC no establishment has
            absent = siret[:9] + "9999"
            absent += luhn_digit(absent)
            misses.append(timed(lambda s=absent: lookup(uow, s))[1])
        results["lookup (found)"] = summary(hits)
        results["lookup (absent, no API key)"] = summary(misses)
        by_kind: dict[str, list[tuple[float, float]]] = {}
        counts: dict[str, list[int]] = {}
        for kind, text in queries:
            (rows, _truncated), spent = timed(lambda t=text: service.search(uow, t, 20))
            by_kind.setdefault(kind, []).append(spent)
            counts.setdefault(kind, []).append(len(rows))
        everything = [t for values in by_kind.values() for t in values]
        results["search (all)"] = summary(everything)
        for kind, values in by_kind.items():
            results[f"search ({kind})"] = summary(values) | {
                "median_results": statistics.median(counts[kind])
            }
    return results


def store_sirets(store: Path, count: int) -> list[str]:
    """``count`` SIRETs spread over a store's index (for ``--latency-store``)."""
    import sqlite3

    first = "SELECT min(siret) FROM sirene_establishment WHERE siret >= ?"
    with sqlite3.connect(store) as db:
        low, high = db.execute("SELECT min(siret), max(siret) FROM sirene_establishment").fetchone()
        step = (high - low) // count
        return [f"{db.execute(first, (low + i * step,)).fetchone()[0]:014d}" for i in range(count)]


# --- the scale run (opt-in: make bench-sirene-scale) ------------------------------------


def measured(argv: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system, its children included: the figure that
    holds on a shared machine) and peak MiB of one command."""
    wall, usage, _err = run_usage(argv, env)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def sqlite_sizes(store: Path) -> dict[str, float]:
    """Megabytes on disk: the store file, and the index's parts in it (dbstat when
    SQLite has it, else the FTS5 blocks' length)."""
    import sqlite3

    sizes = {"store_mb": round(store.stat().st_size / 1e6, 1)}
    with sqlite3.connect(store) as db:
        try:
            for name, size in db.execute(
                "SELECT name, sum(pgsize) FROM dbstat WHERE name LIKE 'sirene%' GROUP BY name"
            ):
                sizes[f"{name}_mb"] = round(size / 1e6, 1)
        except sqlite3.OperationalError:
            (blocks,) = db.execute("SELECT sum(length(block)) FROM sirene_name_fts_data").fetchone()
            sizes["sirene_name_fts_data_mb"] = round((blocks or 0) / 1e6, 1)
        (terms,) = db.execute("SELECT count(*) FROM sirene_term").fetchone()
        sizes["terms"] = terms
    return sizes


def scale_import(sqlite3: str, folder: Path, rows: int, seed: int) -> dict:
    """One size of the scale run: the files, the floor, chorus's import of both files
    (FTS index and vocabulary included) on SQLite; returns figures and the store."""
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    # A file a kept run generated with the same size and seed serves again (``--keep``).
    marker = folder / f"generated-{rows}-{seed}"
    sirets: list[str] | None = None
    establishments = folder / "StockEtablissement_utf8.csv"
    units = folder / "StockUniteLegale_utf8.csv"
    if not (marker.exists() and establishments.exists() and units.exists()):
        establishments, units, sirets = generate(folder, rows, seed)
        marker.touch()
    generated = time.perf_counter() - started
    sizes = {p.name: p.stat().st_size for p in (establishments, units)}
    print(f"{rows:,} rows generated in {generated:.0f} s: {sizes}", flush=True)
    store = folder / "store" / "chorus.db"
    if store.parent.exists():  # a kept run's store: a fresh one
        shutil.rmtree(store.parent)
        shutil.rmtree(folder / "home", ignore_errors=True)
        shutil.rmtree(folder / "xdg", ignore_errors=True)
    store.parent.mkdir(parents=True, exist_ok=True)
    env = clean_env(folder, f"sqlite:///{store}")
    operator_session(env, ADMIN)
    database = folder / "floor.db"
    floor_argv = [sqlite3, "-cmd", "PRAGMA journal_mode=WAL", str(database)]
    floor_argv += [f".import --csv {path} t{i}" for i, path in enumerate((establishments, units))]
    argv = [CHORUS, "sirene", "import", str(establishments), "--unites-legales", str(units)]
    # Side by side, twice (the second import replaces the first index, as a monthly
    # re-import does): the better of each.
    walls, cpus, peaks, floor_walls, floor_cpus = [], [], [], [], []
    for _ in range(2):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        wall, cpu, _ = measured(floor_argv, env)
        floor_walls.append(wall)
        floor_cpus.append(cpu)
        wall, cpu, peak = measured(argv, env)
        walls.append(wall)
        cpus.append(cpu)
        peaks.append(peak)
        print(
            f"{rows:,} rows: chorus {wall:.0f} s, sqlite3 .import {floor_walls[-1]:.0f} s",
            flush=True,
        )
    database.unlink(missing_ok=True)
    wall, floor, cpu, floor_cpu = min(walls), min(floor_walls), min(cpus), min(floor_cpus)
    return {
        "rows": rows,
        "generate_s": round(generated, 1),
        "files_bytes": sizes,
        "import_s": round(wall, 1),
        "floor_s": round(floor, 1),
        "ratio": round(wall / floor, 2),
        "import_cpu_s": round(cpu, 1),
        "floor_cpu_s": round(floor_cpu, 1),
        "cpu_ratio": round(cpu / floor_cpu, 2),
        "peak_rss_mb": round(max(peaks), 1),
        "sizes": sqlite_sizes(store),
        "store": store,
        "sirets": sirets if sirets is not None else store_sirets(store, 1000),
        "files": (establishments, units),
    }


def server_cpu(data: Path) -> float:
    """CPU seconds the PostgreSQL cluster in ``data`` has used so far: its postmaster,
    the backends it has reaped (a session's ends with it) and those still running."""
    tick = os.sysconf("SC_CLK_TCK")

    def stat(pid: str) -> list[str]:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()

    try:
        postmaster = (data / "postmaster.pid").read_text().split()[0]
        fields = stat(postmaster)  # from field 3 on: utime is [11], cutime [13]
        total = sum(int(fields[i]) for i in (11, 12, 13, 14))
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                child = stat(pid)
            except OSError:
                continue
            if child[1] == postmaster:
                total += int(child[11]) + int(child[12])
    except (OSError, IndexError, ValueError):  # not readable here: not reported
        return float("nan")
    return total / tick


def pg_import(folder: Path, files: tuple[Path, Path]) -> dict:
    """The same import on PostgreSQL (a throwaway cluster, as the tests start one):
    wall time, and CPU time of chorus and of the server (the server does most of it)."""
    from tests.pg import Cluster

    cluster = Cluster()
    try:
        url = cluster.start() + "/postgres"
        env = clean_env(folder / "pg", url)
        shutil.rmtree(folder / "pg", ignore_errors=True)  # a kept run's session
        (folder / "pg").mkdir()
        operator_session(env, ADMIN)
        establishments, units = files
        argv = [CHORUS, "sirene", "import", str(establishments), "--unites-legales", str(units)]
        time.sleep(1)
        before = server_cpu(cluster.data)
        wall, cpu, peak = measured(argv, env)
        time.sleep(1)  # the session's backend exits and is reaped
        server = server_cpu(cluster.data) - before
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.connect() as conn:
            size = conn.execute(
                text(
                    "SELECT pg_total_relation_size('sirene_establishment'),"
                    " pg_relation_size('ix_sirene_establishment_name')"
                )
            ).one()
        engine.dispose()
    finally:
        cluster.stop()
    return {
        "import_s": round(wall, 1),
        "import_cpu_s": round(cpu, 1),  # chorus's own
        "server_cpu_s": round(server, 1),
        "peak_rss_mb": round(peak, 1),
        "table_and_indexes_mb": round(size[0] / 1e6, 1),
        "gin_index_mb": round(size[1] / 1e6, 1),
    }


def goal_line(over: list[str]):  # type: ignore[no-untyped-def]
    """A printer of one figure against its goal, as a row of the report; the names of
    those over their goals are added to ``over``."""

    def line(name: str, value: float, unit: str, goal: float, ok: bool) -> dict:
        print(f"{name:<58} {value:>9.2f} {unit:<3} goal {goal:g}{unit:<3} {'ok' if ok else 'OVER'}")
        if not ok:
            over.append(name)
        return {"name": name, "value": value, "goal": goal, "ok": ok}

    return line


def use_home(folder: Path) -> None:
    """This process reads the store a scale run made in ``folder`` (its home, its
    keyring) for the latencies measured in process."""
    os.environ.update(CHORUS_DATA_DIR=str(folder / "home"), XDG_DATA_HOME=str(folder / "xdg"))
    os.environ.pop("PYTHON_KEYRING_BACKEND", None)


def latency_lines(lat: dict, n: str, line) -> list[dict]:  # type: ignore[no-untyped-def]
    """Each latency's p95, wall then CPU time, against its goal (lookup < 1 ms, search
    < 10 ms)."""
    figures = []
    for name, values in lat.items():
        goal = 1.0 if name.startswith("lookup") else 10.0
        values["goal_p95_ms"] = goal
        for key, what in (("p95_ms", ""), ("p95_cpu_ms", ", CPU")):
            figures.append(
                line(f"{name} p95{what} at {n} rows", values[key], "ms", goal, values[key] < goal)
            )
    return figures


def latency_main(options: argparse.Namespace) -> int:
    """``--latency-store``: the latencies alone, on a store a scale run kept (to measure
    them again on a quiet machine)."""
    store = options.latency_store
    folder = store.parent.parent
    use_home(folder)
    queries = search_queries(options.calls, options.seed)
    lat = latencies(f"sqlite:///{store}", store_sirets(store, options.calls), queries)
    over: list[str] = []
    line = goal_line(over)
    import sqlite3

    with sqlite3.connect(store) as db:
        (rows,) = db.execute("SELECT establishments FROM sirene_meta").fetchone()
    figures = latency_lines(lat, f"{rows:,}", line)
    return report(options.out, over, {"store": str(store), "latency": lat, "figures": figures})


def scale_main(options: argparse.Namespace, sqlite3: str) -> int:
    """The national stock at ``--scale`` rows beside the 1-million-row run: import
    against its floor, memory against the 1M run, lookup and search latencies at
    scale, the index's size; PostgreSQL's import at ``--pg-rows``."""
    base = options.dir or Path(tempfile.mkdtemp(prefix="chorus-sirene-scale-"))
    base.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    pg_rows = set(options.pg_rows or {1_000_000, options.scale})
    sizes = sorted({1_000_000, options.scale} | pg_rows)
    runs: dict[int, dict] = {}
    pg: dict[int, dict] = {}
    lat: dict = {}
    try:
        for rows in sizes:
            folder = base / f"rows-{rows}"
            runs[rows] = run = scale_import(sqlite3, folder, rows, options.seed)
            if rows in pg_rows and options.postgresql:
                pg[rows] = pg_import(folder, run["files"])
                print(f"{rows:,} rows on PostgreSQL: {pg[rows]}", flush=True)
            if rows == options.scale:
                use_home(folder)
                queries = search_queries(options.calls, options.seed)
                lat = latencies(
                    f"sqlite:///{run['store']}", run["sirets"][: options.calls], queries
                )
            for path in run.pop("files"):
                if not options.keep:
                    path.unlink()
            run.pop("sirets")
            run["store"] = str(run["store"])
    finally:
        if not options.keep and not options.dir:
            shutil.rmtree(base, ignore_errors=True)
    total = time.perf_counter() - started

    big, one = runs[options.scale], runs[1_000_000]
    over: list[str] = []
    line = goal_line(over)
    print()
    n = f"{options.scale:,}"
    figures = [
        line(f"import {n} rows / sqlite3 .import", big["ratio"], "x", 1.5, big["ratio"] <= 1.5),
        line(
            f"import {n} rows / sqlite3 .import, CPU time",
            big["cpu_ratio"],
            "x",
            1.5,
            big["cpu_ratio"] <= 1.5,
        ),
        line(
            f"peak memory {n} rows / 1,000,000 rows",
            round(big["peak_rss_mb"] / one["peak_rss_mb"], 2),
            "x",
            1.3,
            big["peak_rss_mb"] / one["peak_rss_mb"] <= 1.3,
        ),
    ]
    for rows, figures_pg in pg.items():
        ratio = round(figures_pg["import_s"] / runs[rows]["import_s"], 2)
        figures_pg["ratio_to_sqlite"] = ratio
        figures.append(line(f"import {rows:,} rows PostgreSQL / SQLite", ratio, "x", 2, ratio <= 2))
        # CPU: chorus's and the server's against chorus's on SQLite (all of it there)
        both = figures_pg["import_cpu_s"] + figures_pg["server_cpu_s"]
        if both == both:  # not NaN: the server's was readable
            cpu_ratio = round(both / runs[rows]["import_cpu_s"], 2)
            figures_pg["cpu_ratio_to_sqlite"] = cpu_ratio
            figures.append(
                line(
                    f"import {rows:,} rows PostgreSQL / SQLite, CPU time (server's included)",
                    cpu_ratio,
                    "x",
                    2,
                    cpu_ratio <= 2,
                )
            )
    figures += latency_lines(lat, n, line)
    print()
    for rows, run in runs.items():
        print(
            f"{rows:>11,} rows: import {run['import_s']} s (floor {run['floor_s']} s,"
            f" {run['ratio']}x), peak {run['peak_rss_mb']} MB, index {run['sizes']}"
        )
    print(f"scale run: {total / 60:.1f} min")
    results = {
        "scale": options.scale,
        "seed": options.seed,
        "sqlite": __import__("sqlite3").sqlite_version,
        "minutes": round(total / 60, 1),
        "runs": {str(k): v for k, v in runs.items()},
        "postgresql": {str(k): v for k, v in pg.items()},
        "latency": lat,
        "figures": figures,
    }
    return report(options.out, over, results)


# --- report -------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--out", type=Path, default=HERE / "results-sirene.json")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder.")
    parser.add_argument(
        "--scale", type=int, help="The scale run at this many rows (e.g. 10000000), opt-in."
    )
    parser.add_argument(
        "--pg-rows",
        type=int,
        action="append",
        help="Scale run on PostgreSQL at these sizes (repeat it; default 1,000,000 and --scale).",
    )
    parser.add_argument("--no-postgresql", dest="postgresql", action="store_false")
    parser.add_argument("--dir", type=Path, help="Scale run: where the files go (big).")
    parser.add_argument(
        "--latency-store", type=Path, help="Only the latencies, on a store a scale run kept."
    )
    options = parser.parse_args()

    sqlite3 = shutil.which("sqlite3")
    if not sqlite3:
        raise SystemExit(
            "the sqlite3 command-line shell is needed for the floor: apt install sqlite3"
        )
    if not Path(CHORUS).exists():
        raise SystemExit(f"{CHORUS} not found: run `make bench` (it installs chorus first)")
    if options.latency_store:
        if options.out == HERE / "results-sirene.json":
            options.out = HERE / "results-sirene-scale-latency.json"
        return latency_main(options)
    if options.scale:
        if options.out == HERE / "results-sirene.json":
            options.out = HERE / "results-sirene-scale.json"
        return scale_main(options, sqlite3)

    tmp = Path(tempfile.mkdtemp(prefix="chorus-sirene-bench-"))
    try:
        started = time.perf_counter()
        establishments, units, sirets = generate(tmp, options.rows, options.seed)
        generated = time.perf_counter() - started
        sizes = {p.name: p.stat().st_size for p in (establishments, units)}
        print(f"generated {options.rows:,} establishments in {generated:.1f} s: {sizes}")

        store = tmp / "store" / "chorus.db"
        store.parent.mkdir(parents=True, exist_ok=True)  # SEC-6: chorus creates no folder
        env = clean_env(tmp, f"sqlite:///{store}")
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
        f"{f'latency (in process, {options.rows:,}-row index)':<40} {'median ms':>9} {'p95 ms':>8}"
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
        store = tmp / "store" / "chorus.db"
        store.parent.mkdir(parents=True, exist_ok=True)
        env = {**clean_env(tmp, f"sqlite:///{store}"), "CHORUS_LANG": "en"}
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
