"""docs/fidelity.md (and the README's summary of it) name tests, bench scripts and source files as evidence;
every one of them must exist, so the page cannot silently cite a renamed or deleted check."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIDELITY = ROOT / "docs" / "fidelity.md"
README_SECTION = "## Fidelity to the papers"

# `tests/a/b.py::test_name`, `tests/a/b.py`, `bench/x.py`, `src/overseer/...` (a file or a folder ending in /)
CITATION = re.compile(r"`((?:tests|bench|src/overseer)/[\w./-]*?)(?:::(\w+))?`")
METHODS = ("ODESteer and StepODESteer", "CAA", "RepE", "ITI", "Linear-AcT", "MiMiC", "Truth probes",
           "Linear deception probe", "Black-box lie detector", "Secret elicitation", "NLA", "Cumulant propagation",
           "NSG", "Jaggedness", "Wargame", "Red-teaming", "Observed vs unobserved gap")


def missing_citations(text: str, root: Path) -> list[str]:
    """Every cited path that does not exist, and every cited test that its file does not define."""
    missing = []
    for path, test in CITATION.findall(text):
        target = root / path
        if not target.exists():
            missing.append(path)
        elif test and not re.search(rf"^(?:async )?def {re.escape(test)}\(", target.read_text(), re.MULTILINE):
            missing.append(f"{path}::{test}")
    return missing


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def readme_section(readme: str) -> str:
    start = readme.find(README_SECTION)
    if start < 0:
        return ""
    end = readme.find("\n## ", start + len(README_SECTION))
    return readme[start:] if end < 0 else readme[start:end]


def test_every_check_the_fidelity_page_cites_exists():
    text = FIDELITY.read_text()
    assert len(CITATION.findall(text)) > 50
    assert missing_citations(text, ROOT) == []


def test_the_fidelity_page_has_a_table_for_every_method():
    text = FIDELITY.read_text()
    for method in METHODS:
        match = re.search(rf"^#+ {re.escape(method)}\n(.*?)(?=^#+ |\Z)", text, re.MULTILINE | re.DOTALL)
        assert match, f"no section for {method}"
        assert "| aspect | same as the" in match.group(1), f"{method} has no same/different/why table"


def test_the_readmes_fidelity_summary_cites_only_existing_checks_and_links_the_page():
    section = readme_section((ROOT / "README.md").read_text())
    if not section:  # the summary is merged into the README separately
        return
    assert "docs/fidelity.md" in section
    assert missing_citations(section, ROOT) == []
    anchors = {slug(h) for h in re.findall(r"^#+ (.+)$", FIDELITY.read_text(), re.MULTILINE)}
    linked = set(re.findall(r"\(docs/fidelity\.md#([\w-]+)\)", section))
    assert linked and linked <= anchors, f"links to missing sections: {sorted(linked - anchors)}"


def test_a_renamed_test_or_a_missing_script_is_reported(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("def test_kept():\n    pass\n")
    text = ("`tests/test_x.py::test_kept` `tests/test_x.py::test_renamed` `bench/gone.py` "
            "`tests/test_x.py` `src/overseer/nowhere/`")
    assert missing_citations(text, tmp_path) == ["tests/test_x.py::test_renamed", "bench/gone.py",
                                                  "src/overseer/nowhere/"]
