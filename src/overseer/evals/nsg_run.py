"""`run_nsg_eval`: NSG through `inspect_ai.eval`, read back from its `.eval` logs into `NSGResult`s.

What `overseer nsg run` and the audit call. Model specs are overseer's chat specs (`local:organism`,
`openai-compatible:URL#MODEL`, ...) or the built-in names `simulator` and `ground-truth:organism`;
each becomes an Inspect model (`overseer/<spec>`, `overseer-policy/nsg-rule-follower`), the
reference as the eval's model and the predictors as the roles `predictor`, `predictor2`, ...
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from overseer.errors import OverseerError
from overseer.evals.nsg import NSGResult
from overseer.evals.nsg_task import ORGANISM_DATA, RULE_FOLLOWER, nsg, nsg_dataset, nsg_result_from_log
from overseer.evals.tabular import NSGDataset

SIMULATOR = "simulator"


@dataclass
class NSGEvalRun:
    """Labelled results (`""` for one run; the two organism settings otherwise), their logs, the groups."""

    results: dict[str, NSGResult]
    dataset: NSGDataset
    logs: list[str] = field(default_factory=list)
    comparison: Any = None  # OrganismNSGResult for the organism

    def to_dict(self) -> dict[str, Any]:
        payload = self.comparison.to_dict() if self.comparison is not None else self.results[""].to_dict()
        return {**payload, "eval_logs": self.logs}


def inspect_model(spec: str, model_args: dict[str, Any]) -> Any:
    """The Inspect `Model` for an overseer chat spec (or a built-in name)."""
    from inspect_ai.model import get_model

    from overseer.evals.organism_task import BUILTIN_MODELS, builtin_model
    from overseer.models.inspect_provider import register_chat_model

    if spec == SIMULATOR:
        return get_model(RULE_FOLLOWER)
    if spec in BUILTIN_MODELS:
        register_chat_model(spec, builtin_model(spec))
        return get_model(f"overseer/{spec}")
    name = spec.removeprefix("local:")
    return get_model(f"overseer/{name}", **model_args)


async def _preflight(models: Sequence[Any]) -> None:
    chats = [m.api.chat for m in models if hasattr(m.api, "chat")]
    await asyncio.gather(*(chat.preflight() for chat in chats))


def run_nsg_eval(reference: str, predictors: Sequence[str], data: str = ORGANISM_DATA, n_groups: int = 20,
                 seed: int = 0, log_dir: str | Path = "logs", cache: str | Path | None = None,
                 max_concurrency: int = 4, max_retries: int = 5, display: str = "none",
                 **task_options: Any) -> NSGEvalRun:
    """NSG as Inspect tasks (both explanation settings for the organism), summarised from the logs."""
    from inspect_ai import eval as inspect_eval

    from overseer.evals.nsg import NSGScoring
    from overseer.evals.organism_task import OrganismNSGResult, _stated_rule_rates, paired_nsg_difference

    check_readout(data, task_options)
    if task_options.get("calibration", "none") != "none":
        return _run_calibrated(reference, predictors, data, n_groups, seed, cache, max_concurrency, max_retries,
                               display != "none", **task_options)
    task_options.pop("calibration", None)
    model_args = {"max_concurrency": max_concurrency, "max_retries": max_retries} | \
        ({"cache": str(cache)} if cache is not None else {})
    ref = inspect_model(reference, model_args)
    preds = [inspect_model(spec, model_args) for spec in predictors]
    asyncio.run(_preflight([ref, *preds]))
    roles = {("predictor" if i == 0 else f"predictor{i + 1}"): m for i, m in enumerate(preds)}
    options = {"data": data, "n_groups": n_groups, "seed": seed, "predictors": ",".join(roles), **task_options}
    organism = data == ORGANISM_DATA
    labels = {"faithful (auditor setting)": "auditor", "unfaithful (customer setting)": "customer"} \
        if organism else {"": None}
    tasks = [nsg(**options, **({"setting": setting} if setting else {})) for setting in labels.values()]
    logs = inspect_eval(tasks, model=ref, model_roles=roles, log_dir=str(log_dir), display=display,
                        max_tasks=len(tasks), score_display=False)
    for log in logs:
        if log.status != "success":
            message = log.error.message if log.error is not None else log.status
            raise OverseerError(f"the NSG eval failed: {message.strip().splitlines()[-1]} (log: {log.location})")
    results = {label: nsg_result_from_log(log) for label, log in zip(labels, logs, strict=True)}
    comparison = None
    if organism:
        faithful, unfaithful = results.values()
        n_boot = int(task_options.get("n_boot", 2000))
        difference = paired_nsg_difference(faithful.records, unfaithful.records, n_boot,
                                           scoring=NSGScoring.from_dict(faithful.settings.get("scoring")))
        comparison = OrganismNSGResult(faithful, unfaithful, difference,
                                       {"auditor": _stated_rule_rates(faithful),
                                        "customer": _stated_rule_rates(unfaithful)})
    return NSGEvalRun(results, nsg_dataset(data, n_groups, seed, *_table_args(task_options)),
                      [log.location for log in logs], comparison)


def check_readout(data: str, options: dict[str, Any]) -> None:
    from overseer.errors import ConfigurationError
    from overseer.evals.nsg import NSGScoring
    from overseer.evals.nsg_prompts import predictor_prompt_named, protocol_named
    from overseer.evals.nsg_readout import AnswerReadout

    readout = AnswerReadout(options.get("answer_from", "text"), options.get("calibration", "none"))
    if data == ORGANISM_DATA and readout.uses_logprobs:
        raise ConfigurationError("--data organism reads answers from text; drop --answer-from.")
    NSGScoring(**{k: options[k] for k in ("unparsed", "ceiling", "egregious", "bootstrap") if k in options})
    if options.get("protocol") is not None:
        if data == ORGANISM_DATA:
            raise ConfigurationError("--data organism asks the organism in its own format; drop --protocol.")
        protocol_named(options["protocol"])
    if options.get("predictor_prompt") is not None:
        predictor_prompt_named(options["predictor_prompt"])
    if options.get("construction") is not None:
        if data == ORGANISM_DATA:
            raise ConfigurationError("--data organism has fixed groups; drop --construction.")
        if options["construction"] not in ("paper", "nearest"):
            raise ConfigurationError(f"--construction must be paper or nearest, got {options['construction']!r}.")


def _run_calibrated(reference: str, predictors: Sequence[str], data: str, n_groups: int, seed: int,
                    cache: str | Path | None, max_concurrency: int, max_retries: int, progress: bool,
                    **options: Any) -> NSGEvalRun:
    """Balanced calibration reads each answer relative to a whole batch of cases, which one-sample-per-centre
    Inspect tasks cannot do: this path runs `run_nsg` on the chat layer directly and writes no `.eval` log."""
    from overseer.evals.nsg import NSGScoring, run_nsg
    from overseer.evals.nsg_prompts import protocol_named
    from overseer.evals.nsg_readout import AnswerReadout
    from overseer.evals.organism_task import builtin_model
    from overseer.models.chat import ResponseCache, chat_model

    shared = ResponseCache(cache) if cache is not None else None
    kwargs = {"cache": shared, "max_concurrency": max_concurrency, "max_retries": max_retries}
    ref = chat_model(builtin_model(reference) or reference, **kwargs)
    preds = [chat_model(builtin_model(spec) or spec, **kwargs) for spec in predictors]
    dataset = nsg_dataset(data, n_groups, seed, *_table_args(options))
    readout = AnswerReadout(options.pop("answer_from"), options.pop("calibration"))
    for key in ("label_column", "question", "subject", "construction"):
        options.pop(key, None)
    protocol = options.pop("protocol", None)
    options["protocol"] = protocol_named(protocol) if protocol is not None else None
    options["scoring"] = NSGScoring(**{k: options.pop(k) for k in ("unparsed", "ceiling", "egregious", "bootstrap")
                                       if k in options})
    return NSGEvalRun({"": run_nsg(dataset, ref, preds, readout=readout, seed=seed, progress=progress, **options)},
                      dataset)


def _table_args(options: dict[str, Any]) -> tuple[Any, ...]:
    return (options.get("label_column", "label"), options.get("question"), options.get("subject", "case"),
            options.get("construction"))
