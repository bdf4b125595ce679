"""Natural-language autoencoders (NLA): explain an activation in words, scored by how well the words rebuild it."""

from overseer.nla.core import NLA, default_layer, fve
from overseer.nla.patchscopes import Patchscope
from overseer.nla.reconstructor import Reconstructor

__all__ = ["NLA", "Patchscope", "Reconstructor", "default_layer", "fve"]
