"""Pure rules, tested without a simulation."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from twin.policies.flows import household_demand, order_up_to, prorata_fill, split_by_weight

kg = st.floats(0.0, 1e6)


@st.composite
def rationing_cases(draw):
    n = draw(st.integers(1, 4))
    r = draw(st.integers(1, 8))
    c = draw(st.integers(1, 3))
    request = draw(arrays(float, (r, c), elements=kg))
    node = draw(arrays(np.int64, r, elements=st.integers(0, n - 1)))
    stock = draw(arrays(float, (n, c), elements=kg))
    cap = draw(arrays(float, n, elements=st.one_of(kg, st.just(np.inf))))
    return request, node, stock, cap


@given(rationing_cases())
def test_prorata_never_exceeds_request_stock_or_capacity(case):
    request, node, stock, cap = case
    served = prorata_fill(request, node, stock, cap)
    n = stock.shape[0]
    assert np.all(served >= 0)
    assert np.all(served <= request * (1 + 1e-12) + 1e-9)
    per_node = np.zeros_like(stock)
    np.add.at(per_node, node, served)
    assert np.all(per_node <= stock * (1 + 1e-9) + 1e-6)
    assert np.all(per_node.sum(axis=1) <= cap * (1 + 1e-9) + 1e-6)
    assert per_node.shape[0] == n


@given(rationing_cases())
def test_prorata_serves_everything_when_nothing_binds(case):
    request, node, _, _ = case
    n = int(node.max()) + 1
    served = prorata_fill(request, node, np.full((n, request.shape[1]), 1e12), np.full(n, np.inf))
    assert np.allclose(served, request)


def test_prorata_shares_shortage_equally():
    served = prorata_fill(np.array([[30.0], [10.0]]), np.array([0, 0]), np.array([[20.0]]), np.array([np.inf]))
    assert served.ravel().tolist() == [15.0, 5.0]


def test_capacity_binds_after_stock():
    served = prorata_fill(np.array([[10.0, 10.0]]), np.array([0]), np.array([[5.0, 100.0]]), np.array([6.0]))
    assert np.allclose(served, [[2.0, 4.0]])


@given(arrays(float, 5, elements=kg), arrays(float, 5, elements=kg), arrays(float, 5, elements=kg))
def test_order_up_to_closes_the_gap(level, stock, pipeline):
    order = order_up_to(level, stock, pipeline)
    assert np.all(order >= 0)
    assert np.allclose(np.maximum(stock + pipeline + order, level), stock + pipeline + order)


def test_split_by_weight_sums_to_one_per_owner():
    w = split_by_weight(np.array([0, 0, 1, 2, 2]), np.array([1.0, 1.0, 0.0, 2.0, 6.0]), 3)
    assert w.tolist() == [0.5, 0.5, 0.0, 0.25, 0.75]


def test_household_demand_is_need_when_stock_is_on_target():
    need = np.array([[2.0, 1.0]])
    assert household_demand(need, need * 3, np.array([3.0])).tolist() == [[2.0, 1.0]]
    assert household_demand(need, need * 10, np.array([3.0])).tolist() == [[0.0, 0.0]]
