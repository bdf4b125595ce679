"""Natural-language autoencoders (NLA): explain an activation in words, scored by how well the words rebuild it."""

from overseer.nla.core import NLA, default_layer, fve

__all__ = ["NLA", "default_layer", "fve"]
