"""The files around the code agree with each other: licences, pyproject, README, CONTRIBUTING and pre-commit."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COPYRIGHT = "Copyright (c) 2026 the Video Understanding, hands-on authors"

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    tomllib = pytest.importorskip("tomli")


def _readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


def test_mit_licence_for_the_code():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\n" + COPYRIGHT + "\n")
    assert "Permission is hereby granted, free of charge, to any person obtaining a copy" in text
    assert text.rstrip().endswith("OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE\n"
                                  "SOFTWARE.")


def test_cc_by_licence_for_the_prose_and_figures():
    text = (ROOT / "LICENSE-CONTENT").read_text(encoding="utf-8")
    assert COPYRIGHT in text and "https://creativecommons.org/licenses/by/4.0/" in text
    assert "Creative Commons Attribution 4.0 International Public License" in text
    sections = re.findall(r"^Section (\d) -- ", text, flags=re.M)
    assert sections == [str(n) for n in range(1, 9)], "the full legal code has sections 1 to 8"
    assert text.rstrip().endswith("Creative Commons may be contacted at creativecommons.org.")


def test_pyproject_declares_the_licence_files():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE", "LICENSE-CONTENT"]
    assert all((ROOT / name).is_file() for name in project["license-files"])


def test_readme_licence_section_agrees():
    section = _readme_section("License")
    assert "MIT for the code" in section and "[LICENSE](LICENSE)" in section
    assert "CC BY 4.0" in section and "[LICENSE-CONTENT](LICENSE-CONTENT)" in section


def test_contributing_exists_and_the_readme_links_it():
    assert "(CONTRIBUTING.md)" in _readme_section("For maintainers")
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for heading in ("## Architecture", "## Adding an exercise", "## Running the tests", "## Style"):
        assert re.search(rf"^{re.escape(heading)}", text, flags=re.M), heading
    for command in ("python -m course_utils.authoring execute", "python -m course_utils.authoring build",
                    "python -m pytest"):
        assert command in text, command


def test_pre_commit_runs_ruff_and_the_authoring_check():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    repos = {repo["repo"]: repo for repo in config["repos"]}
    ruff = repos["https://github.com/astral-sh/ruff-pre-commit"]
    assert re.fullmatch(r"v\d+\.\d+\.\d+", ruff["rev"]), "pin a released ruff version"
    assert [hook["id"] for hook in ruff["hooks"]] == ["ruff-check"]
    (local,) = repos["local"]["hooks"]
    assert local["entry"].split("#")[0].strip() == "python -m course_utils.authoring check"
    assert local["language"] == "system" and local["pass_filenames"] is False


def test_pre_commit_accepts_the_configuration():
    clientlib = pytest.importorskip("pre_commit.clientlib", reason="pre-commit is not installed")
    clientlib.load_config(str(ROOT / ".pre-commit-config.yaml"))  # raises InvalidConfigError on a bad file


TOOLING = ("course_utils.exercises", "course_utils.authoring", "course_utils.grade")
TOOLKIT_ALLOWED_IN_TOOLS = ("course_utils._lazy",)  # what authoring and grade may import from the package's root


def _module_imports(path: Path, *, top_level_only: bool) -> list[str]:
    """The modules a file imports (all of them, or only those its module body imports when it is loaded)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def test_the_toolkit_never_imports_the_tooling():
    offenders = []
    for path in sorted((ROOT / "course_utils").rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if name.startswith(TOOLING):
            continue
        offenders += [f"{name} imports {module}" for module in _module_imports(path, top_level_only=False)
                      if module.startswith(TOOLING)]
    assert not offenders, "\n".join(offenders)


def test_authoring_and_grade_import_neither_torch_nor_the_toolkit_when_loaded():
    offenders = []
    for wing in ("authoring", "grade"):
        for path in sorted((ROOT / "course_utils" / wing).rglob("*.py")):
            for module in _module_imports(path, top_level_only=True):
                toolkit = module.startswith("course_utils.") and not module.startswith(
                    TOOLING + TOOLKIT_ALLOWED_IN_TOOLS)
                if toolkit or module.split(".")[0] in ("torch", "av", "matplotlib", "ipywidgets"):
                    offenders.append(f"{path.relative_to(ROOT)} imports {module} at import time")
    assert not offenders, "\n".join(offenders)
