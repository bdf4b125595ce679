"""Scripted, deterministic reference policies: agents and players whose behaviour is known by
construction, served to Inspect as the model provider `overseer-policy/<name>[?key=value&...]`.

They are ground truth for scorers: a scorer that no misbehaving policy can fail is a defect.
Each eval adds its policies to `POLICIES` (see `overseer.policies.base`).
"""

from overseer.policies.base import POLICIES, Policy, policy_output

__all__ = ["POLICIES", "Policy", "policy_output"]
