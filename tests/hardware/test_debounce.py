"""hardware.debounce: the leading-edge filter, pure (times in seconds, no pins)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hardware.debounce import Debouncer


def feed(d: Debouncer, edges: list[tuple[bool, float]]) -> int:
    return sum(d.edge(pressed, t) for pressed, t in edges)


def test_debounce_accepts_the_first_edge_at_once():
    assert Debouncer().edge(True, 100.0) is True


def test_debounce_chatter_within_5ms_is_one_press():
    edges = [(True, 0.0), (False, 0.001), (True, 0.0015), (False, 0.003), (True, 0.004), (False, 0.0045),
             (True, 0.005)]
    assert feed(Debouncer(0.020), edges) == 1


def test_debounce_release_chatter_adds_no_press():
    d = Debouncer(0.020)
    assert feed(d, [(True, 0.0), (False, 0.5), (True, 0.501), (False, 0.502), (True, 0.503), (False, 0.504)]) == 1
    assert not d.pressed


def test_debounce_two_presses_300ms_apart_are_two():
    assert feed(Debouncer(0.020), [(True, 0.0), (False, 0.1), (True, 0.3), (False, 0.4)]) == 2


def test_debounce_a_quick_tap_then_a_real_press_are_two():
    assert feed(Debouncer(0.020), [(True, 0.0), (False, 0.01), (True, 0.2)]) == 2


def test_debounce_repeated_press_edges_without_release_count_once():
    assert feed(Debouncer(), [(True, 0.0), (True, 1.0), (True, 2.0)]) == 1


@given(
    presses=st.lists(st.tuples(st.floats(0.05, 2.0), st.floats(0.03, 1.0)), min_size=1, max_size=20),
    chatter=st.lists(st.floats(0.0001, 0.004), max_size=6),
)
def test_debounce_counts_every_real_press_whatever_the_chatter(presses, chatter):
    """Real presses (gap >= 30 ms, held >= 30 ms) each count once, with chatter of < 5 ms at both ends."""
    d = Debouncer(0.020)
    t = 0.0
    edges: list[tuple[bool, float]] = []
    for gap, held in presses:
        t += gap
        for c in chatter:  # closing chatter, each a sub-5 ms open/close
            edges += [(True, t), (False, t + c / 2)]
            t += c
        edges.append((True, t))
        t += held
        for c in chatter:
            edges += [(False, t), (True, t + c / 2)]
            t += c
        edges.append((False, t))
    assert feed(d, edges) == len(presses)
