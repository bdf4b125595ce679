"""Run the red-team task and summarise its .eval log: utility, utility under attack, attack success
per class, control false alarms, claim-state contradiction rate and the valid tool-call rate,
each with a Wilson interval (`overseer.stats`)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from overseer.errors import InvalidInputError
from overseer.stats import Estimate, wilson_interval


@dataclass
class SampleOutcome:
    id: str
    kind: str
    case: str
    compromised: bool
    task_done: bool
    has_task: bool
    claims: int
    contradiction: bool
    error: str | None = None


@dataclass
class RedteamSummary:
    model: str
    log: str
    n: int
    utility: Estimate | None
    utility_under_attack: Estimate | None
    attack_success: Estimate | None
    attack_success_by_class: dict[str, Estimate]
    control_false_alarms: Estimate | None
    contradiction_rate: Estimate | None
    tool_calls: int
    valid_tool_call_rate: Estimate | None
    errors: int
    samples: list[SampleOutcome] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["attack_success_by_class"] = {k: v.to_dict() for k, v in self.attack_success_by_class.items()}
        return d

    def rows(self) -> list[tuple[str, str]]:
        """(metric, value) rows for the CLI table and the audit section."""
        def fmt(e: Estimate | None) -> str:
            return "n/a" if e is None else f"{e} (n={e.n})"

        rows = [("utility (benign tasks)", fmt(self.utility)),
                ("utility under attack", fmt(self.utility_under_attack)),
                ("attack success, all classes", fmt(self.attack_success))]
        rows += [(f"  {case}", fmt(est)) for case, est in self.attack_success_by_class.items()]
        rows += [("failed-attack controls flagged", fmt(self.control_false_alarms)),
                 ("claim-state contradiction rate", fmt(self.contradiction_rate)),
                 ("valid tool-call rate", f"{fmt(self.valid_tool_call_rate)} of {self.tool_calls} calls"),
                 ("samples with errors", str(self.errors))]
        return rows


def _rate(flags: list[bool]) -> Estimate | None:
    return wilson_interval(sum(flags), len(flags)) if flags else None


def summarize(log: Any) -> RedteamSummary:
    """A summary of one red-team EvalLog (or the path of one)."""
    from inspect_ai.log import read_eval_log

    if isinstance(log, str | Path):
        if not Path(log).exists():
            raise InvalidInputError(f"no Inspect log at {log}; pass a .eval file written by `overseer redteam run`.")
        log = read_eval_log(str(log))
    if not log.samples:
        raise InvalidInputError(f"the log {log.location} has no samples; was the run interrupted before any finished?")
    outcomes, calls, valid = [], 0, 0
    for s in log.samples:
        outcomes.append(_outcome(s))
        for m in s.messages:
            for tc in getattr(m, "tool_calls", None) or []:
                calls += 1
                valid += tc.parse_error is None
    attacks = [o for o in outcomes if o.kind == "attack" and o.error is None]
    by_class: dict[str, Estimate] = {}
    for case in dict.fromkeys(o.case for o in attacks):
        by_class[case] = wilson_interval(sum(o.compromised for o in attacks if o.case == case),
                                         sum(o.case == case for o in attacks))
    ok = [o for o in outcomes if o.error is None]
    return RedteamSummary(
        model=str(log.eval.model), log=str(log.location), n=len(outcomes),
        utility=_rate([o.task_done for o in ok if o.kind == "benign"]),
        utility_under_attack=_rate([o.task_done for o in attacks if o.has_task]),
        attack_success=_rate([o.compromised for o in attacks]),
        attack_success_by_class=by_class,
        control_false_alarms=_rate([o.compromised for o in ok if o.kind == "control"]),
        contradiction_rate=_rate([o.contradiction for o in ok if o.claims > 0]),
        tool_calls=calls, valid_tool_call_rate=wilson_interval(valid, calls) if calls else None,
        errors=sum(o.error is not None for o in outcomes), samples=outcomes)


def _outcome(sample: Any) -> SampleOutcome:
    meta = sample.metadata or {}
    scores = sample.scores or {}
    state = scores.get("state_outcome")
    claims = scores.get("claims_vs_state")
    error = sample.error.message.splitlines()[0] if sample.error else None
    if state is None or claims is None:
        error = error or "not scored"
    sv = state.value if state is not None else {}
    cv = claims.value if claims is not None else {}
    return SampleOutcome(id=str(sample.id), kind=meta.get("kind", "?"), case=meta.get("case", "?"),
                         compromised=bool(sv.get("compromised", 0)), task_done=bool(sv.get("task_done", 0)),
                         has_task=bool(state.metadata.get("has_task")) if state is not None and state.metadata
                         else False, claims=int(cv.get("claims", 0)), contradiction=bool(cv.get("contradictions", 0)),
                         error=error)


def run_redteam(model: str, out: Path, kinds: str = "attack,control,benign", cases: str = "",
                max_samples: int = 8, display: str = "none", model_args: dict[str, Any] | None = None,
                sample_ids: list[str] | None = None, **task_args: Any) -> RedteamSummary:
    """Run the red-team task on `model` (any Inspect model name), write the log and summary.json under `out`."""
    from inspect_ai import eval as inspect_eval

    import overseer._inspect_registry  # noqa: F401  (the overseer/ and overseer-policy/ providers)
    from overseer.evals.redteam.task import redteam

    [log] = inspect_eval(redteam(kinds=kinds, cases=cases, **task_args), model=model, model_args=model_args or {},
                         log_dir=str(out / "logs"), display=display, max_samples=max_samples, fail_on_error=False,
                         sample_id=sample_ids)
    summary = summarize(log)
    (out / "summary.json").write_text(json.dumps(summary.to_dict(), indent=2))
    return summary
