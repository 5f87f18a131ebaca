"""The small input files the README's examples read, written fresh for every check.

Kept beside scripts/readme_examples.py so that what the examples show can be read in one place.
"""

from __future__ import annotations

import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TRAIN_EVERY = 32  # every 32nd row of data/headlines.csv: 201 rows, about 6 s of CPU

CLUSTER_HEADLINES = [
    "Judge blocks end of TPS for Haitians",
    "Appeals court weighs Haitian TPS ruling",
    "Court halts bid to end Haitian protected status",
    "US raises tariffs on Chinese steel",
    "China retaliates against new US steel tariffs",
    "Steel tariffs spark fears of trade war",
    "Earthquake kills hundreds in Turkey",
    "Turkey quake death toll rises to 500",
    "Rescuers search rubble after Turkish earthquake",
    "Fed signals more rate hikes ahead",
    "Fed raises interest rates by a quarter point",
    "Federal Reserve lifts rates 0.25%",
    "Measles outbreak spreads in Texas schools",
    "Texas measles cases climb to 90",
    "Yankees sign veteran pitcher to one-year deal",
    "New exhibit of Dutch masters opens at museum",
    "Heat wave grips southern Europe",
]

# Four kinds of bad row the tagger keeps and marks; row 7 has a Latin-1 byte.
MIXED_CSV = (
    b"id,headline,source\n"
    b"1,WHO warns measles cases are rising across Europe,wire\n"
    b"2,,wire\n"
    b"3,China retaliates with tariffs on American soybeans,wire,extra\n"
    b"4,Asylum seekers wait at the border as new rules take effect,wire\n"
    b"5,   ,wire\n"
    b"6,CHINA RETALIATES WITH   tariffs on American soybeans,wire\n"
    b"7,Caf\xe9 owners protest new sugar tax,wire\n"
)


def write_example_files(work: Path) -> None:
    """The inputs the README's examples name, small enough for the whole check to take a minute."""
    (work / "headlines.txt").write_text("\n".join(CLUSTER_HEADLINES) + "\n", encoding="utf-8")
    (work / "mixed.csv").write_bytes(MIXED_CSV)
    with (ROOT / "data" / "headlines.csv").open(encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))
    with (work / "train.csv").open("w", encoding="utf-8", newline="") as sink:
        # headline and topic only: without a 'set' column training uses 5 stratified folds
        writer = csv.writer(sink, lineterminator="\n")
        writer.writerow(["headline", "topic"])
        writer.writerows([row["headline"], row["topic"]] for row in rows[::TRAIN_EVERY])
