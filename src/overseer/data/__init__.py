"""Dataset loaders with validation: typed records, and clear errors for missing, empty or malformed files."""

from overseer.data.common import data_root
from overseer.data.geometry_of_truth import GOT_SETS, Statement, geometry_of_truth_available, load_geometry_of_truth
from overseer.data.pairs import ContrastivePair, load_pairs
from overseer.data.statements import GENERATED_SETS, generate_statements, write_statement_csv
from overseer.data.toxicity import ToxicityPrompt, load_rtp_prompts, rtp_dir
from overseer.data.truthfulqa import TruthfulQAItem, load_truthfulqa, split_folds, truthfulqa_path

__all__ = [
    "GENERATED_SETS",
    "GOT_SETS",
    "ContrastivePair",
    "Statement",
    "ToxicityPrompt",
    "TruthfulQAItem",
    "data_root",
    "generate_statements",
    "geometry_of_truth_available",
    "load_geometry_of_truth",
    "load_pairs",
    "load_rtp_prompts",
    "load_truthfulqa",
    "rtp_dir",
    "split_folds",
    "truthfulqa_path",
    "write_statement_csv",
]
