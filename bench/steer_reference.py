"""overseer's steering methods against the ODESteer paper's own code, fitted on the same activations.

    python bench/steer_reference.py --reference PATH [--activations synthetic|smollm2] [--layer 15]

PATH is a checkout of github.com/ZhaoHongjue/odesteer (checked at commit 08cbc11); it is imported from
PATH/src, never installed. Its ODE solver (torchdiffeq) and POT are stood in for when absent: the
solver by the fixed-grid Euler scheme the paper's configs use, POT by nothing (MiMiC is then skipped).
ODESteer's random sketch is drawn by each code from its own RNG, so the reference is handed overseer's
hash tables (the "matched seed"). Prints, per method, how close the two fitted rewrites are; exit
status 1 when a method that overseer implements the same way (CAA, Linear-AcT with equal class sizes
of at most 256, ODESteer, StepODESteer) differs beyond float32 rounding. RepE and ITI differ on
purpose (docs/fidelity.md); their cosines are printed, not judged.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import types
from pathlib import Path

import torch

from overseer.steering import make_method

TOLERANCE = 1e-4  # float32 activations of norm ~10-100; the fits agree to ~1e-6


def _euler_odeint(func, y0, t, method, options):
    """torchdiffeq.odeint for method='euler' with a fixed step_size: `steps` Euler steps from t0 to t1."""
    if method != "euler":
        raise SystemExit(f"the stand-in solver runs only 'euler', not {method!r}; install torchdiffeq.")
    t0, t1, h = float(t[0]), float(t[1]), float(options["step_size"])
    y = y0
    for i in range(round((t1 - t0) / h)):
        y = y + h * func(t0 + i * h, y)
    return torch.stack([y0, y])


def import_reference(path: Path) -> types.ModuleType:
    if not (path / "src" / "odesteer" / "steer" / "_ode_steer.py").is_file():
        raise SystemExit(f"{path} is not a checkout of ZhaoHongjue/odesteer (no src/odesteer/steer/_ode_steer.py).")
    if importlib.util.find_spec("torchdiffeq") is None:
        sys.modules["torchdiffeq"] = types.SimpleNamespace(odeint=_euler_odeint)
    if importlib.util.find_spec("ot") is None:
        stub = types.ModuleType("ot")
        stub.da = types.SimpleNamespace(LinearTransport=lambda **kwargs: None)
        sys.modules["ot"] = stub
    sys.path.insert(0, str(path / "src"))
    import odesteer.steer as steer

    return steer


def synthetic(seed: int = 0, d: int = 96, n: int = 200) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Two Gaussian classes with a few huge dimensions (as LLM residual streams have), and held-out points."""
    g = torch.Generator().manual_seed(seed)
    scales = torch.ones(d)
    scales[:3] = 20.0
    shift = torch.randn(d, generator=g) * 0.6
    pos = torch.randn(n, d, generator=g) * scales + shift + 3.0
    neg = torch.randn(n, d, generator=g) * scales + 3.0
    test = torch.randn(50, d, generator=g) * scales + 3.0
    return pos.float(), neg.float(), test.float()


def smollm2(layer: int, n: int = 100) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Last-token activations of TruthfulQA correct vs incorrect answers; held out: the last fifth of each."""
    from overseer.data import load_truthfulqa
    from overseer.models import capture, load_model
    from overseer.steering.truthfulqa import contrastive_texts

    pos_texts, neg_texts = contrastive_texts(load_truthfulqa(limit=n))
    acts = capture(load_model("smollm2"), pos_texts + neg_texts, [layer])[:, 0].float()
    pos, neg = acts[:len(pos_texts)], acts[len(pos_texts):]
    cut = int(0.8 * min(len(pos), len(neg)))
    return pos[:cut], neg[:cut], torch.cat([pos[cut:], neg[cut:]])


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double().flatten(), b.double().flatten()
    return float(a @ b / (a.norm() * b.norm()))


def compare_vectors(ref, pos, neg, test) -> dict[str, tuple[str, float | None]]:
    """name -> (line, judged error or None when the method differs on purpose)."""
    out = {}
    r, o = ref.CAA().fit(pos, neg), make_method("caa").fit(pos, neg)
    err = float((r.steer_vec - o.vector_).abs().max())
    out["caa"] = (f"vector cosine {cosine(r.steer_vec, o.vector_):.7f}, max |diff| {err:.1e}", err)
    r, o = ref.RepE().fit(pos, neg), make_method("repe").fit(pos, neg)
    out["repe"] = (f"|direction cosine| {abs(cosine(r.steer_vec, o.vector_)):.4f} (centred vs uncentred PCA)", None)
    r, o = ref.ITI().fit(pos, neg), make_method("iti").fit(pos, neg)
    out["iti"] = (f"direction cosine {cosine(r.steer_vec, o.vector_):.4f} (probe on standardised, balanced data)", None)
    r, o = ref.LinAcT().fit(pos, neg), make_method("linear_act", strength=1.0).fit(pos, neg)
    err = float((r.steer(test) - o.apply(test)).abs().max())
    same = len(pos) == len(neg) <= 256
    out["linear_act"] = (f"max |scale diff| {float((r.lin_ot.w - o.scale_).abs().max()):.1e}, max |steered diff| "
                         f"{err:.1e}" + ("" if same else " (unequal or >256 rows: quantiles, not judged)"),
                         err if same else None)
    return out


def compare_ode(ref, name: str, pos, neg, test) -> tuple[str, float]:
    """ODESteer or StepODESteer with the reference handed overseer's sketch tables."""
    ours = make_method(name, strength=1.0).fit(pos, neg)
    index, sign = ours.sketch_.index.clone(), ours.sketch_.sign.to(torch.int8)

    def matched_fit(self, x):
        self.n_features_ = x.shape[1]
        self.register_buffer("indexHash_", index.clone())
        self.register_buffer("bitHash_", sign.clone())
        return self

    kwargs = dict(n_components=ours.n_components, degree=ours.degree, gamma=ours.gamma, coef0=ours.coef0,
                  lin_clf_type="lr")
    build = (lambda: ref.ODESteer(solver="euler", steps=ours.steps, **kwargs)) if name == "odesteer" else (
        lambda: ref.StepODESteer(**kwargs))
    sketch_class = sys.modules["odesteer.utils.kernels._poly_cnt_sketch"].NormedPolyCntSketch
    original, sketch_class.fit = sketch_class.fit, matched_fit
    try:
        theirs = build().fit(pos, neg)
    finally:
        sketch_class.fit = original
    parts, worst = [], 0.0
    for t in (1.0, 5.0):
        d_ref, d_ours = theirs.steer(test, T=t) - test, ours.apply(test, strength=t) - test
        worst = max(worst, float((d_ref - d_ours).abs().max()))
        rows = torch.nn.functional.cosine_similarity(d_ref.double(), d_ours.double(), dim=-1)
        parts.append(f"T={t:g}: min row cosine {float(rows.min()):.6f}")
    barrier = float((theirs.clf.log_dre(test) - ours.barrier(test)).abs().max())
    return f"{'; '.join(parts)}; max |displacement diff| {worst:.1e}; max |barrier diff| {barrier:.1e}", worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, required=True, help="checkout of ZhaoHongjue/odesteer")
    parser.add_argument("--activations", choices=("synthetic", "smollm2"), default="synthetic")
    parser.add_argument("--layer", type=int, default=15, help="SmolLM2 layer (with --activations smollm2)")
    args = parser.parse_args()
    ref = import_reference(args.reference)
    pos, neg, test = synthetic() if args.activations == "synthetic" else smollm2(args.layer)
    print(f"{args.activations} activations: {len(pos)} positive, {len(neg)} negative, {len(test)} held out, "
          f"d={pos.shape[1]}")
    results = compare_vectors(ref, pos, neg, test)
    for name in ("odesteer", "step_odesteer"):
        results[name] = compare_ode(ref, name, pos, neg, test)
    failed = [name for name, (_, err) in results.items() if err is not None and err > TOLERANCE]
    for name, (line, err) in results.items():
        verdict = "differs on purpose" if err is None else ("SAME" if err <= TOLERANCE else "DIFFERENT")
        print(f"{name:>14}: {verdict:18} {line}")
    print("all matched methods equal the reference" if not failed else f"differ from the reference: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
