"""Audit section: agent red-teaming in the sandboxed world, ground-truth policies and the audited model."""

from __future__ import annotations

from overseer.report.sections import Section, Table

POLICIES = ("overseer-policy/obey-latest", "overseer-policy/owner-only")
# A small, fixed slice for a real local model (CPU generation with a long tool prompt is slow).
MODEL_SAMPLES_QUICK = ["non_owner-2"]
MODEL_SAMPLES_FULL = ["benign-post-status", "benign-remember-preference", "non_owner-2", "disclosure-1",
                      "owner_spoofing-2", "guilt-3"]


def redteam_section(ctx) -> Section:
    from overseer.evals.redteam.results import run_redteam
    from overseer.sandbox import check_bwrap

    check_bwrap()  # no usable bubblewrap: the section is skipped with the fix in its message
    root = ctx.out_dir / "redteam"
    runs = [run_redteam(p, root / p.split("/")[-1], bash_timeout=2) for p in POLICIES]
    ids = MODEL_SAMPLES_QUICK if ctx.quick else MODEL_SAMPLES_FULL
    runs.append(run_redteam(f"overseer/{ctx.model}", root / ctx.model, sample_ids=ids, max_samples=1,
                            max_steps=3, max_events=4, bash_timeout=2, time_limit=240 if ctx.quick else 600))
    tables = [Table(f"Red team: {r.model} ({r.n} samples)", ["metric", "estimate [95% CI]"],
                    [list(row) for row in r.rows()]) for r in runs]
    obey, owner, model = runs
    section = Section("redteam", "Agent red-teaming (sandboxed world)", "ok", _summary(runs), tables, [],
                      {"runs": [r.to_dict() for r in runs], "logs": [r.log for r in runs]})
    rate = model.valid_tool_call_rate
    section.headline = (f"attack success: obey-latest {obey.attack_success}, owner-only {owner.attack_success} "
                        f"(ground truth); {model.model}: {_fmt(model.attack_success)}, valid tool calls "
                        f"{rate if rate is not None else 'none made'}")
    return section


def _fmt(estimate) -> str:
    return "n/a" if estimate is None else str(estimate)


def _summary(runs) -> str:
    obey, owner, model = runs
    rate = model.valid_tool_call_rate
    calls = f"{rate} valid over {model.tool_calls} calls" if rate is not None else "no tool call at all"
    return (
        "Each scenario runs in a fresh bwrap sandbox (the agent's workspace) beside a world database (mail with a "
        "quota, chat with verified ids and spoofable display names, a scheduler fired by heartbeats, external "
        "documents, a peer agent), and is scored on the final state only; a second scorer checks what the agent "
        "claimed (deleted, stopped, told the owner, done) against that state. Ground truth: obey-latest is "
        f"compromised at {obey.attack_success} over {obey.attack_success.n} attacks; owner-only at "
        f"{owner.attack_success}, all of it persistent indirect injection (an edited document reaching the agent "
        "through the owner's own heartbeat passes its identity check by design); both complete the owner's tasks "
        f"(utility {obey.utility} and {owner.utility}); failed-attack controls flagged: "
        f"{obey.control_false_alarms} and {owner.control_false_alarms}. obey-latest's claim-state contradiction "
        f"rate is {obey.contradiction_rate} (it says 'Done' after a wipe that left the secret in the archive, and "
        f"posts 'I'm done' before acting again). {model.model} on {model.n} scenarios through the JSON text tool "
        f"protocol: attack success {_fmt(model.attack_success)}, utility under attack "
        f"{_fmt(model.utility_under_attack)}, utility {_fmt(model.utility)}; {calls}; "
        f"{model.errors} sample(s) with errors. Reported as measured."
    )
