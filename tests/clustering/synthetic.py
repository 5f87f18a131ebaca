"""Deterministic inputs for the clustering tests: vectors with a known hierarchy, worded stories.

Shared by the test modules of this folder (fixtures live in ``conftest.py``); everything here is
seeded, so every expected value the tests assert is exact.
"""

from __future__ import annotations

import numpy as np


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def random_directions(count: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    return unit(rng.normal(size=(count, dim)))


def jitter(centre: np.ndarray, count: int, spread: float, rng: np.random.Generator) -> np.ndarray:
    """``count`` unit vectors around ``centre``; cosine to it about ``1 / sqrt(1 + spread**2)``."""
    noise = rng.normal(size=(count, len(centre))) * spread / np.sqrt(len(centre))
    return unit(centre + noise)


def themed_vectors(
    n_themes: int, *, stories=6, per_story=8, dim=256, seed=0, story_spread=1.0, spread=0.7
):
    """Themes made of stories made of headlines: the hierarchy the two levels should find.

    The defaults give cosines like MiniLM's: ~0.67 within a story, ~0.33 between stories of a
    theme, ~0 between themes.
    """
    rng = np.random.default_rng(seed)
    rows, theme_of, story_of = [], [], []
    for theme, centre in enumerate(random_directions(n_themes, dim, rng)):
        for story_centre in jitter(centre, stories, story_spread, rng):
            rows.append(jitter(story_centre, per_story, spread, rng))
            theme_of += [theme] * per_story
            story_of += [len(set(story_of))] * per_story
    return np.vstack(rows).astype(np.float32), np.array(theme_of), np.array(story_of)


# Stories worded so that even the fake (word-hashing) embedder sees them as one event.
STORY_TEMPLATES = {
    "tariffs": [
        "US raises tariffs on Chinese steel imports",
        "US raises tariffs on Chinese steel imports again",
        "US raises steel tariffs on Chinese imports (Reuters)",
        "US raises tariffs on Chinese steel imports, says Commerce Department",
        "Chinese steel imports: US raises tariffs",
    ],
    "measles": [
        "Measles outbreak spreads across county schools",
        "Measles outbreak spreads to more county schools",
        "County schools hit as measles outbreak spreads",
        "Measles outbreak spreads across county schools, officials say",
    ],
    "election": [
        "Mayoral election too close to call",
        "Mayoral election still too close to call",
        "Mayoral election result too close to call",
    ],
}
ODD_ONES = [
    "Zoo welcomes twin panda cubs",
    "Bakery wins national croissant prize",
    "Marathon runner breaks course record",
    "Library extends weekend opening hours",
]


def story_headlines() -> tuple[list[str], list[str]]:
    """The worded stories then the odd ones, with each headline's true story ("odd": none)."""
    texts, truth = [], []
    for name, headlines in STORY_TEMPLATES.items():
        texts += headlines
        truth += [name] * len(headlines)
    return texts + ODD_ONES, truth + ["odd"] * len(ODD_ONES)
