"""The network: plain data built and validated by one function, then handed to the simulation."""

from twin.network.build import build_network
from twin.network.model import KIND_TIER, Network, group_sum

__all__ = ["KIND_TIER", "Network", "build_network", "group_sum"]
