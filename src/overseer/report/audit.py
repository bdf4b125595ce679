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
from overseer.report.html import render
from overseer.report.sections import Section
from overseer.runs import run_dir


@dataclass
class AuditContext:
    model: str
    out_dir: Path
    quick: bool = True
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


def _registry() -> list[SectionSpec]:
    from overseer.report import method_sections, model_sections, probe_sections, steering_sections

    return [
        SectionSpec("models", "Models under audit", model_sections.models_section),
        SectionSpec("organism-card", "The organism's card", method_sections.organism_card_section),
        SectionSpec("steer-organism", "Steering the organism (ground truth)",
                    steering_sections.organism_sentiment_section),
        SectionSpec("steer-truthfulqa", "Steering on TruthfulQA", steering_sections.truthfulqa_section),
        SectionSpec("truth-probes", "Truth probes", method_sections.truth_probe_section),
        SectionSpec("deception-organism", "Lie detection on the organism", probe_sections.organism_deception_section),
        SectionSpec("elicit-organism", "Secret elicitation on the organism",
                    probe_sections.organism_elicitation_section),
        SectionSpec("nsg-organism", "Faithfulness of self-explanations (NSG, organism)",
                    method_sections.nsg_organism_section),
        SectionSpec("nsg-model", "Faithfulness of self-explanations (NSG, audited model)",
                    method_sections.nsg_model_section),
        SectionSpec("estimation", "Mechanistic estimation", method_sections.estimation_section),
    ]


@dataclass
class AuditResult:
    out_dir: Path
    sections: list[Section]

    @property
    def report(self) -> Path:
        return self.out_dir / "report.html"

    @property
    def failed(self) -> list[Section]:
        return [s for s in self.sections if s.status == "failed"]


def section_keys() -> list[str]:
    return [spec.key for spec in _registry()]


def run_audit(model: str = "smollm2", out_dir: Path | None = None, only: list[str] | None = None,
              quick: bool = True, on_section: Callable[[Section], None] | None = None) -> AuditResult:
    specs = _registry()
    if only:
        unknown = sorted(set(only) - {s.key for s in specs})
        if unknown:
            raise InvalidInputError(f"unknown audit section(s) {unknown}: choose from {[s.key for s in specs]}.")
        specs = [s for s in specs if s.key in only]
    out_dir = run_dir(out_dir, "audit")
    ctx = AuditContext(model=model, out_dir=out_dir, quick=quick)
    sections: list[Section] = []
    for spec in specs:
        start = time.perf_counter()
        try:
            section = spec.run(ctx)
        except OverseerError as exc:
            section = Section(spec.key, spec.title, "skipped", summary=str(exc))
        except Exception as exc:  # a bug in one section must not cost the others their results
            section = Section(spec.key, spec.title, "failed", summary=f"{type(exc).__name__}: {exc}",
                              data={"traceback": traceback.format_exc()})
        section.seconds = time.perf_counter() - start
        sections.append(section)
        # Written after every section, so an interrupted audit keeps what it finished.
        _write(out_dir, model, sections)
        if on_section is not None:
            on_section(section)
    return AuditResult(out_dir, sections)


def _write(out_dir: Path, model: str, sections: list[Section]) -> None:
    (out_dir / "audit.json").write_text(json.dumps(
        {"model": model, "sections": [s.to_dict() for s in sections]}, indent=2, default=str))
    html_text = render("overseer audit", sections, {"model": model})
    (out_dir / "report.html").write_text(html_text)
