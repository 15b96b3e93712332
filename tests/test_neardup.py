"""The near-duplicate index on a real SQLite file: order-independent, stable clusters."""

from __future__ import annotations

import random

import pytest
from sqlite_utils import Database

from pipelines.neardup import NearDuplicateIndex, optimal_bands, shingles
from tests.support.texts import repost, story


def partition(index: NearDuplicateIndex, ids: list[str]) -> set[frozenset[str]]:
    clusters: dict[str, set[str]] = {}
    for article_id in ids:
        cluster = index.assign(article_id, "")  # already indexed: returns its cluster
        clusters.setdefault(cluster.cluster_id, set()).add(article_id)
    return {frozenset(c) for c in clusters.values()}


@pytest.fixture
def corpus() -> dict[str, str]:
    texts = {}
    for s in range(6):
        texts[f"s{s}"] = story(s)
        for r in range(3):
            texts[f"s{s}r{r}"] = repost(texts[f"s{s}"], 100 * s + r)
    return texts


def test_reposts_cluster_with_their_story_and_nothing_else(tmp_path, corpus):
    index = NearDuplicateIndex(Database(tmp_path / "a.db"))
    for article_id, text in corpus.items():
        index.assign(article_id, text, article_id)
    expected = {frozenset({f"s{s}", *(f"s{s}r{r}" for r in range(3))}) for s in range(6)}
    assert partition(index, list(corpus)) == expected


def test_any_order_gives_the_same_clusters(tmp_path, corpus):
    partitions = []
    for seed in range(4):
        ids = list(corpus)
        random.Random(seed).shuffle(ids)
        index = NearDuplicateIndex(Database(tmp_path / f"{seed}.db"))
        for article_id in ids:
            index.assign(article_id, corpus[article_id], str(ids.index(article_id)))
        partitions.append(partition(index, ids))
    assert all(p == partitions[0] for p in partitions)


def test_a_bridge_merges_two_clusters_into_the_first_seen(tmp_path):
    base = story(7, 450).split()
    a = " ".join(base[:300])  # a and c share 150 of 300 words: well below the threshold
    c = " ".join(base[150:450])
    b = " ".join(base[75:375])  # b shares 225 words with each: above it
    index = NearDuplicateIndex(Database(tmp_path / "b.db"), threshold=0.5)
    assert index.assign("a", a, "1").cluster_id == "a"
    assert index.assign("c", c, "2").cluster_id == "c"
    joined = index.assign("b", b, "3")
    assert joined.cluster_id == "a" and joined.merged == ("c",)
    assert index.members("a") == ["a", "c", "b"]


def test_reassigning_or_a_revised_text_keeps_the_cluster(tmp_path, corpus):
    index = NearDuplicateIndex(Database(tmp_path / "c.db"))
    first = index.assign("s0", corpus["s0"], "1")
    index.assign("s0r0", corpus["s0r0"], "2")
    again = index.assign("s0r0", corpus["s1"], "3")  # re-extracted, even as another text
    assert again.cluster_id == first.cluster_id
    assert index.members("s0") == ["s0", "s0r0"]


def test_shingles_fold_case_and_unicode():
    assert shingles("The  Minister SAID", 2) == shingles("the minister said", 2)
    assert shingles("ﬁne words", 1) == {b"fine", b"words"}
    assert shingles("", 3) == set()


def test_bad_settings_are_refused(tmp_path):
    with pytest.raises(ValueError, match="threshold"):
        NearDuplicateIndex(Database(tmp_path / "d.db"), threshold=0)
    with pytest.raises(ValueError, match="shingle size"):
        NearDuplicateIndex(Database(tmp_path / "d.db"), shingle_size=0)


@pytest.mark.parametrize("threshold", [0.1, 0.2, 0.3, 0.5, 0.7, 0.9])
def test_band_layout_is_datasketchs_without_scipy(threshold):
    from datasketch.lsh import _optimal_param

    assert optimal_bands(threshold, 128) == _optimal_param(threshold, 128, 0.5, 0.5)
