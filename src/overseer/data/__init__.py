"""Dataset loaders with validation: typed records, and clear errors for missing, empty or malformed files."""

from overseer.data.common import data_root
from overseer.data.geometry_of_truth import GOT_SETS, Statement, load_geometry_of_truth
from overseer.data.pairs import ContrastivePair, load_pairs
from overseer.data.toxicity import ToxicityPrompt, load_rtp_prompts, rtp_dir
from overseer.data.truthfulqa import TruthfulQAItem, load_truthfulqa, split_folds

__all__ = [
    "GOT_SETS",
    "ContrastivePair",
    "Statement",
    "ToxicityPrompt",
    "TruthfulQAItem",
    "data_root",
    "load_geometry_of_truth",
    "load_pairs",
    "load_rtp_prompts",
    "load_truthfulqa",
    "rtp_dir",
    "split_folds",
]
