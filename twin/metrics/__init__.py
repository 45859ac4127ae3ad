"""Resilience metrics: pure functions from a run's result tables to numbers and curves.

Every function takes DataFrames as written to the run folder (``twin.load_results``) and returns
numbers, Series or frames; each docstring gives its formula. The modules:

- :mod:`~twin.metrics.curves`      performance curves: fill of need (primary), market service level;
- :mod:`~twin.metrics.timing`      shock start, shock intervals and episodes, regime switches;
- :mod:`~twin.metrics.robustness`  pre-shock level, time to failure, recovery, the resilience triangle;
- :mod:`~twin.metrics.cascade`     failed nodes by tier, cascade depth along the network, cut-off shares;
- :mod:`~twin.metrics.adaptation`  adaptability, shock episodes, evolvability (learning vs no learning);
- :mod:`~twin.metrics.fairness`    fulfilment per community, Gini, food-insecure person-days;
- :mod:`~twin.metrics.prices`, :mod:`~twin.metrics.safety_net`, :mod:`~twin.metrics.workforce`;
- :mod:`~twin.metrics.summary`     the one-row summary of a run and the comparison of two runs.

``from twin.metrics import daily_service, balance_error, summary_row`` is the stable core.
"""

from __future__ import annotations

from twin.metrics._common import MetricSettings, channel_columns, delivered_kg
from twin.metrics.adaptation import EPISODE_COLUMNS, adaptability, episode_table, evolvability, switch_gains
from twin.metrics.cascade import (cascade_depth, cascade_stats, cut_off_shares, failed_nodes_by_tier, layer_failed_share,
                                  stock_by_tier, tier_down_days)
from twin.metrics.curves import (add_groups, channel_curve, daily_service, fill_curve, need_persons_curve,
                                 population_curve, service_curve)
from twin.metrics.fairness import food_insecure_person_days, fulfilment, gini, group_fulfilment, lorenz
from twin.metrics.prices import city_price_index, price_index_by_category, price_stats
from twin.metrics.robustness import (pre_shock_level, recovery_days, resilience_loss_person_days,
                                     time_to_failure_days)
from twin.metrics.safety_net import request_stats, requests_by_group
from twin.metrics.summary import (NEVER_KEYS, balance_error, comparison, evolvability_of, find_shock_start_day,
                                  never_to_null, resilience, run_episodes, shock_episodes, summary_row)
from twin.metrics.timing import episodes, regime_days, shock_intervals, shock_start_day, switch_days
from twin.metrics.workforce import workforce_curve, workforce_stats

__all__ = [
    "EPISODE_COLUMNS", "NEVER_KEYS", "cascade_stats", "cut_off_shares", "evolvability_of", "fill_curve",
    "need_persons_curve", "never_to_null", "run_episodes",
    "MetricSettings", "adaptability", "add_groups", "balance_error", "cascade_depth", "channel_columns",
    "channel_curve", "city_price_index", "comparison", "daily_service", "delivered_kg", "episode_table",
    "episodes", "evolvability", "failed_nodes_by_tier", "find_shock_start_day", "food_insecure_person_days",
    "fulfilment", "gini", "group_fulfilment", "layer_failed_share", "lorenz", "population_curve",
    "pre_shock_level", "price_index_by_category", "price_stats", "recovery_days", "regime_days",
    "request_stats", "requests_by_group", "resilience", "resilience_loss_person_days", "service_curve",
    "shock_episodes", "shock_intervals", "shock_start_day", "stock_by_tier", "summary_row", "switch_days",
    "switch_gains", "tier_down_days", "time_to_failure_days", "workforce_curve", "workforce_stats",
]
