"""The audit: every method that has landed, run on the embedded models, in one report.

Each section runs on its own: a section whose input is missing (say, organism weights not
trained) is reported as skipped with the reason, one that breaks as failed with the error,
and the others still run and are written.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from overseer.errors import InvalidInputError, OverseerError
from overseer.registry import Registry
from overseer.report.html import render
from overseer.report.sections import Section
from overseer.runs import run_dir


@dataclass
class AuditContext:
    model: str
    out_dir: Path
    quick: bool = True
    # --full sizes times `scale` (bench/audit_time.py runs sections small to project the full audit's time);
    # sections that honour it say so in their docstring.
    scale: float = 1.0
    _models: dict[str, Any] = field(default_factory=dict)

    def load(self, name: str):
        from overseer.models import load_model

        if name not in self._models:
            self._models[name] = load_model(name)
        return self._models[name]

    def figure_path(self, name: str) -> Path:
        (self.out_dir / "figures").mkdir(parents=True, exist_ok=True)
        return self.out_dir / "figures" / name


SectionFn = Callable[[AuditContext], Section]


@dataclass(frozen=True)
class SectionSpec:
    key: str
    title: str
    run: SectionFn


# key -> section function (ctx -> Section), in report order; the help text is the section's title.
SECTIONS: Registry[SectionFn] = Registry("audit section")
SECTIONS.add_lazy("models", "overseer.report.model_sections:models_section", "Models under audit")
SECTIONS.add_lazy("organism-card", "overseer.report.method_sections:organism_card_section", "The organism's card")
SECTIONS.add_lazy("steer-organism", "overseer.report.steering_sections:organism_sentiment_section",
                  "Steering the organism (ground truth)")
SECTIONS.add_lazy("steer-truthfulqa", "overseer.report.steering_sections:truthfulqa_section",
                  "Steering on TruthfulQA")
SECTIONS.add_lazy("steer-toxicity", "overseer.report.toxicity_sections:toxicity_section",
                  "Steering away from toxicity (RealToxicityPrompts; --full only)")
SECTIONS.add_lazy("truth-probes", "overseer.report.method_sections:truth_probe_section", "Truth probes")
SECTIONS.add_lazy("deception-organism", "overseer.report.probe_sections:organism_deception_section",
                  "Lie detection on the organism")
SECTIONS.add_lazy("elicit-organism", "overseer.report.probe_sections:organism_elicitation_section",
                  "Secret elicitation on the organism")
SECTIONS.add_lazy("nsg-organism", "overseer.report.method_sections:nsg_organism_section",
                  "Faithfulness of self-explanations (NSG, organism)")
SECTIONS.add_lazy("nsg-model", "overseer.report.method_sections:nsg_model_section",
                  "Faithfulness of self-explanations (NSG, audited model)")
SECTIONS.add_lazy("gap", "overseer.report.gap_sections:gap_section", "Observed vs unobserved behaviour")
SECTIONS.add_lazy("redteam", "overseer.report.redteam_sections:redteam_section",
                  "Agent red-teaming (sandboxed world)")
SECTIONS.add_lazy("wargame", "overseer.report.wargame_sections:wargame_section", "Nuclear-crisis wargame")
SECTIONS.add_lazy("estimation", "overseer.report.method_sections:estimation_section", "Mechanistic estimation")
SECTIONS.add_lazy("nla", "overseer.report.nla_sections:nla_section", "Natural-language autoencoder (organism)")


def _registry() -> list[SectionSpec]:
    """The sections to run, in order; each imports its module only when it runs."""
    return [SectionSpec(key, SECTIONS.help(key), _lazy(key)) for key in SECTIONS]


def _lazy(key: str) -> SectionFn:
    return lambda ctx: SECTIONS.get(key)(ctx)


@dataclass
class AuditResult:
    out_dir: Path
    sections: list[Section]
    seconds: float = 0.0  # wall clock of the whole audit
    machine: dict[str, Any] = field(default_factory=dict)

    @property
    def report(self) -> Path:
        return self.out_dir / "report.html"

    @property
    def failed(self) -> list[Section]:
        return [s for s in self.sections if s.status == "failed"]


def section_keys() -> list[str]:
    return [spec.key for spec in _registry()]


def run_audit(model: str = "smollm2", out_dir: Path | None = None, only: list[str] | None = None,
              quick: bool = True, on_section: Callable[[Section], None] | None = None,
              on_start: Callable[[str, str], None] | None = None, scale: float = 1.0) -> AuditResult:
    """Run the sections in order; `on_start(key, title)` is called as each begins, `on_section` as it ends."""
    from overseer.report.timing import machine_info

    audit_start, machine = time.perf_counter(), machine_info()
    cpu_seconds: dict[str, float] = {}  # process CPU time per section: wall time alone hides a loaded machine
    if not 0 < scale <= 1:
        raise InvalidInputError(f"scale must be in (0, 1], got {scale}: it shrinks --full sizes for benches.")
    specs = _registry()
    if only:
        unknown = sorted(set(only) - {s.key for s in specs})
        if unknown:
            raise InvalidInputError(f"unknown audit section(s) {unknown}: choose from {[s.key for s in specs]}.")
        specs = [s for s in specs if s.key in only]
    out_dir = run_dir(out_dir, "audit")
    ctx = AuditContext(model=model, out_dir=out_dir, quick=quick, scale=scale)
    sections: list[Section] = []
    for spec in specs:
        start, cpu_start = time.perf_counter(), time.process_time()
        if on_start is not None:
            on_start(spec.key, spec.title)
        try:
            section = spec.run(ctx)
        except OverseerError as exc:
            section = Section(spec.key, spec.title, "skipped", summary=str(exc))
        except Exception as exc:  # a bug in one section must not cost the others their results
            section = Section(spec.key, spec.title, "failed", summary=f"{type(exc).__name__}: {exc}",
                              data={"traceback": traceback.format_exc()})
        section.seconds = time.perf_counter() - start
        cpu_seconds[section.key] = time.process_time() - cpu_start
        sections.append(section)
        # Written after every section, so an interrupted audit keeps what it finished.
        timing = {"seconds": time.perf_counter() - audit_start, "machine": machine, "quick": quick,
                  "cpu_seconds": cpu_seconds}
        _write(out_dir, model, sections, timing)
        if on_section is not None:
            on_section(section)
    return AuditResult(out_dir, sections, time.perf_counter() - audit_start, machine)


def _write(out_dir: Path, model: str, sections: list[Section], timing: dict[str, Any] | None = None) -> None:
    (out_dir / "audit.json").write_text(json.dumps(
        {"model": model, **(timing or {}), "sections": [s.to_dict() for s in sections]}, indent=2, default=str))
    html_text = render("overseer audit", sections, {"model": model}, timing)
    (out_dir / "report.html").write_text(html_text)
