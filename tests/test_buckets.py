"""Buckets: the grouping rules of group_by(size=, max_wait=), without threads."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genpipe._buckets import Buckets
from tests.strategies import int_lists, sizes


def test_a_bucket_is_handed_back_when_it_reaches_size() -> None:
    buckets: Buckets[str, int] = Buckets(2, None)
    assert buckets.add("a", 1) is None
    assert buckets.add("b", 2) is None
    assert buckets.add("a", 3) == [1, 3]
    assert buckets.rest() == [("b", [2])]
    assert not buckets


def test_the_next_item_of_a_handed_back_key_opens_the_newest_bucket() -> None:
    buckets: Buckets[str, int] = Buckets(2, None)
    buckets.add("a", 1)
    buckets.add("b", 2)
    buckets.add("a", 3)
    buckets.add("a", 4)
    assert buckets.rest() == [("b", [2]), ("a", [4])]


def test_expired_hands_back_due_buckets_oldest_first_and_keeps_the_rest() -> None:
    buckets: Buckets[str, int] = Buckets(None, 5.0)
    buckets.add("a", 1, now=0.0)
    buckets.add("b", 2, now=1.0)
    buckets.add("a", 3, now=2.0)
    buckets.add("c", 4, now=7.0)
    assert buckets.deadline() == 5.0
    assert buckets.expired(4.9) == []
    assert buckets.expired(6.0) == [("a", [1, 3]), ("b", [2])]
    assert buckets.deadline() == 12.0
    assert buckets.rest() == [("c", [4])]
    assert buckets.deadline() is None


def test_without_max_wait_no_bucket_expires() -> None:
    buckets: Buckets[str, int] = Buckets(3, None)
    buckets.add("a", 1)
    assert buckets.deadline() is None
    assert buckets.expired(1e9) == []


def test_an_unhashable_key_is_a_type_error_naming_key_and_item() -> None:
    buckets: Buckets[list[int], int] = Buckets(2, None)
    with pytest.raises(TypeError, match=r"keys must be hashable, got \[1\] for item 7"):
        buckets.add([1], 7)


@given(size=sizes, keys=int_lists)
def test_every_item_comes_back_once_in_its_keys_order_in_groups_of_at_most_size(
    size: int, keys: list[int]
) -> None:
    buckets: Buckets[int, int] = Buckets(size, None)
    handed: list[tuple[int, list[int]]] = []
    for position, key in enumerate(keys):
        full = buckets.add(key % 3, position)
        if full is not None:
            handed.append((key % 3, full))
    assert all(len(group) == size for _, group in handed)
    rest = buckets.rest()
    assert all(0 < len(group) < size for _, group in rest)
    assert len({key for key, _ in rest}) == len(rest)
    for key in {key % 3 for key in keys}:
        mine = [p for k, group in handed + rest if k == key for p in group]
        assert mine == [p for p, k in enumerate(keys) if k % 3 == key]


@given(st.lists(st.floats(0, 100), max_size=20), st.floats(0.1, 10))
def test_each_bucket_is_due_max_wait_after_its_first_item(
    times: list[float], max_wait: float
) -> None:
    buckets: Buckets[int, float] = Buckets(None, max_wait)
    now = 0.0
    for number, step in enumerate(times):
        now += step
        for _, group in buckets.expired(now):
            assert group[0] + max_wait <= now
        buckets.add(number % 2, now, now=now)
        # Everything due was handed back, so the oldest bucket is not due yet.
        deadline = buckets.deadline()
        assert deadline is not None
        assert deadline > now
