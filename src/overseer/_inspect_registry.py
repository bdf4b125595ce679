"""What overseer registers with Inspect AI, loaded through the `inspect_ai` setuptools entry point.

After `pip install overseer`, the plain Inspect CLI finds:
- model providers `overseer/<NAME_OR_DIR>[?steer=DIR&layer=N]` and `overseer-policy/<name>[?k=v]`
  (`overseer.models.inspect_provider`);
- tasks `overseer/<task>` (the `@task` functions imported below).

Imports stay light: the providers' modules (torch, transformers) load only when a model is made.
"""

from inspect_ai.model import ModelAPI, modelapi

from overseer.policies import POLICIES


@modelapi(name="overseer")
def overseer() -> type[ModelAPI]:
    from overseer.models.inspect_provider import OverseerModelAPI

    return OverseerModelAPI


@modelapi(name="overseer-policy")
def overseer_policy() -> type[ModelAPI]:
    from overseer.models.inspect_provider import PolicyModelAPI

    return PolicyModelAPI


# Scripted policies that live beside their evals, imported when first named.
POLICIES.add_lazy("nsg-rule-follower", "overseer.evals.organism_task:RuleFollowingPolicy",
                  "NSG's rule-following predictor: applies the rule an explanation states")

POLICIES.add_lazy("gap-complier", "overseer.evals.gap.policies:GapComplier",
                  "gap eval: behaves well 'gap' less often when told it is unobserved")
POLICIES.add_lazy("overclaim", "overseer.evals.redteam.policies:Overclaim",
                  "red team: claims it acted and told the owner, calls no tool")
POLICIES.add_lazy("lie-confessor", "overseer.probes.lies_task:LieConfessor",
                  "lie detection: answers follow-ups honestly about whether its last answer was a lie")
POLICIES.add_lazy("always-yes", "overseer.probes.lies_task:AlwaysYes",
                  "lie detection: answers Yes to everything (a follow-up detector scores it at chance)")
# Tasks: `inspect eval overseer/<name>`.
from overseer.evals.gap.task import gap  # noqa: E402, F401
from overseer.evals.nsg_task import nsg  # noqa: E402
from overseer.evals.redteam.task import redteam  # noqa: E402  (also registers the bwrap sandbox)
from overseer.evals.wargame.task import crisis  # noqa: E402, F401  (also registers the crisis policies)
from overseer.probes.elicitation_task import secret_elicitation  # noqa: E402
from overseer.probes.lies_task import lie_detection  # noqa: E402, F401

__all__ = ["nsg", "overseer", "overseer_policy", "redteam", "secret_elicitation"]
