"""Generated stories and reposts of them, for the near-duplicate tests."""

from __future__ import annotations

import random

PROSE = (
    "the minister said talks would resume in geneva next week after both sides exchanged "
    "proposals on security guarantees missile deployments and military exercises near the "
    "border while officials warned that sanctions remained on the table if troops advanced "
    "markets fell sharply as investors weighed the risk of conflict energy prices rose and "
    "analysts expected further volatility in european trading before the central bank met"
)
WORDS = PROSE.split()


def story(seed: int, length: int = 300) -> str:
    """`length` words of news prose, the same for the same `seed`."""
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(length))


def repost(text: str, seed: int) -> str:
    """Intro line, a trimmed ending and ~2% of words changed."""
    rng = random.Random(seed)
    words = text.split()[: int(len(text.split()) * 0.9)]
    for i in rng.sample(range(len(words)), len(words) // 50):
        words[i] = rng.choice(WORDS)
    return "Via Sputnik, worth reading: " + " ".join(words)
