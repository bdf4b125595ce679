"""FLOPs counted from the torch ops that actually run, not estimated from formulas.

Matrix products are counted by torch's own formulas (the registry behind
`torch.utils.flop_counter.FlopCounterMode`: 2mnk for an (m, k) @ (k, n) product; matrix-vector
products, which that registry omits, as 2 per matrix entry). On top of that,
every pointwise op counts one FLOP per output element and every reduction one per input element,
so the O(n^2) and O(n^3) elementwise work of the nonlinear steps is not free. Copies and views
count nothing.
"""

from __future__ import annotations

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

_aten = torch.ops.aten
# Matrix-vector products, which torch's registry leaves out: 2 FLOPs per matrix entry.
_MATVEC = {_aten.mv: 0, _aten.addmv: 1, _aten.dot: 0, _aten.vdot: 0}
_FREE = {_aten.clone, _aten.copy_, _aten._to_copy, _aten.fill_, _aten.zero_, _aten.lift_fresh}


def _numel(value) -> int:
    if isinstance(value, torch.Tensor):
        return value.numel()
    if isinstance(value, (tuple, list)) and value and isinstance(value[0], torch.Tensor):
        return value[0].numel()
    return 0


class FlopCounter(TorchDispatchMode):
    """Context manager: `with FlopCounter() as c: ...; c.total`."""

    _warm = False

    @classmethod
    def warm_up(cls) -> None:
        """Pay the one-time cost of entering a dispatch mode (torch imports dynamo, ~2 s) up front,
        so it does not land in the first estimator's wall time."""
        if not cls._warm:
            with cls():
                torch.ones(1) + 1
            cls._warm = True

    def __init__(self) -> None:
        super().__init__()
        self.matmul = 0
        self.elementwise = 0
        self.by_op: dict[str, int] = {}

    @property
    def total(self) -> int:
        return self.matmul + self.elementwise

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        packet = func._overloadpacket
        if packet in flop_registry:
            count = int(flop_registry[packet](*args, **kwargs, out_val=out))
            self.matmul += count
        elif packet in _MATVEC:
            count = 2 * args[_MATVEC[packet]].numel()
            self.matmul += count
        elif packet in _FREE:
            return out
        elif torch.Tag.pointwise in func.tags:
            count = _numel(out)
            self.elementwise += count
        elif torch.Tag.reduction in func.tags:
            count = _numel(args[0]) if args else 0
            self.elementwise += count
        else:
            return out
        name = str(packet).removeprefix("aten.")
        self.by_op[name] = self.by_op.get(name, 0) + count
        return out
