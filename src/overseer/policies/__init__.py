"""Scripted, deterministic reference policies: agents and players whose behaviour is known by
construction, served to Inspect as the model provider `overseer-policy/<name>[?key=value&...]`.

They are ground truth for scorers: a scorer that no misbehaving policy can fail is a defect.
Each eval adds its policies to `POLICIES` (see `overseer.policies.base`). The generic ones
(`obey-latest`, `owner-only`, `refuse-all`, `random`) and the conventions for requests and sender
identity (`[from: ID verified]` as a message's first line, or `metadata={"from": ID, "verified": True}`)
are in `overseer.policies.generic`.
"""

from overseer.policies import generic as _generic  # noqa: F401  (registers the generic policies)
from overseer.policies.base import POLICIES, Policy, policy_output

__all__ = ["POLICIES", "Policy", "policy_output"]
