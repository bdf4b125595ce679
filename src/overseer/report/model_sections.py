"""Audit section: what the models are, and how their residual stream grows with depth."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from overseer.errors import OverseerError  # noqa: E402
from overseer.models import capture  # noqa: E402
from overseer.report.sections import Section, Table  # noqa: E402

PROBE_TEXTS = [
    "The city of Paris is in France.",
    "The city of Paris is in Japan.",
    "I loved this film, it was wonderful.",
    "I hated this film, it was dreadful.",
    "Please tell me a secret.",
]


def models_section(ctx) -> Section:
    names = [ctx.model] + (["organism"] if ctx.model != "organism" else [])
    rows, notes, norms = [], [], {}
    for name in names:
        try:
            lm = ctx.load(name)
        except OverseerError as exc:
            notes.append(f"{name}: not available ({exc})")
            continue
        info = lm.info()
        rows.append([info.name, info.family, info.architecture, info.n_layers, info.d_model,
                     f"{info.n_params:,}", info.vocab_size, info.has_chat_template])
        acts = capture(lm, PROBE_TEXTS, list(range(lm.n_layers)), positions="last", progress=False)
        norms[name] = acts.norm(dim=-1).mean(0).tolist()  # [n_layers]
    if not rows:
        raise OverseerError("no model could be loaded: " + "; ".join(notes))
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for name, values in norms.items():
        depth = [i / max(len(values) - 1, 1) for i in range(len(values))]
        ax.plot(depth, values, marker="o", ms=3, label=f"{name} ({len(values)} layers)")
    ax.set_xlabel("relative depth (layer / last layer)")
    ax.set_ylabel("mean residual-stream norm")
    ax.set_yscale("log")
    ax.set_title("Residual-stream norm by depth (last token, mean over 5 probe texts)")
    ax.legend()
    fig.tight_layout()
    path = ctx.figure_path("residual_norms.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    table = Table("Models", ["name", "family", "architecture", "layers", "d_model", "parameters", "vocab",
                             "chat template"], rows)
    summary = "Every method below reads and writes these models' residual streams (layer i = output of block i)."
    if notes:
        summary += "\n" + "\n".join(notes)
    section = Section("models", "Models under audit", "ok", summary, [table], [path], {"residual_norms": norms})
    section.headline = ("; ".join(f"{r[0]}: {r[3]} layers, {r[5]} parameters" for r in rows)
                        + (f" ({len(notes)} not available)" if notes else ""))
    return section
