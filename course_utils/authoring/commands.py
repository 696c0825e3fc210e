"""Building the student notebooks, set-up cells and README syllabus from the solution notebooks.

Commands (run from the repository root)::

    python -m course_utils.authoring build             # write notebooks/ and the README syllabus from solutions/
    python -m course_utils.authoring check             # exit 1, naming the notebook, when anything is out of date
    python -m course_utils.authoring execute NB...     # run solution notebooks in place and store their outputs
    python -m course_utils.authoring import-script SCRIPT NOTEBOOK   # percent-format draft -> solution notebook
    python -m course_utils.authoring quiz-hash ID VALUE...   # salted hashes of quiz answers (see quiz_hash.py)

``build`` also writes ``course_utils/exercises/outline.py``, the list of graded cells the scoreboard reads.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from course_utils.authoring import contract, syllabus

ROOT = Path(__file__).resolve().parents[2]
"""The course checkout: the folder that holds ``course_utils/``, ``solutions/`` and ``notebooks/``."""
OUTLINE = Path("course_utils", "exercises", "outline.py")
"""The generated module that tells ``course_utils.progress`` each notebook's graded cells and points."""


def solution_paths(root: Path = ROOT) -> list[Path]:
    """Return the solution notebooks, sorted by name."""
    return sorted((root / "solutions").glob("[0-9][0-9]_*.ipynb"))


def planned_outputs(root: Path = ROOT) -> tuple[dict[Path, str], list[str]]:
    """Compute every file that ``build`` writes, as ``{path: text}``, and the contract problems found."""
    outputs: dict[Path, str] = {}
    problems: list[str] = []
    notebooks = []
    for path in solution_paths(root):
        notebook = contract.read_notebook(path)
        problems += [f"{path.relative_to(root)}: {p}" for p in contract.validate(notebook, path.stem)]
        contract.refresh_setup_cell(notebook)
        outputs[path] = contract.notebook_text(notebook)
        outputs[root / "notebooks" / path.name] = contract.notebook_text(contract.student_version(notebook))
        notebooks.append((path.stem, notebook))
    readme = root / "README.md"
    if readme.exists():
        outputs[readme] = syllabus.with_syllabus(readme.read_text(encoding="utf-8"), notebooks, problems)
    if (root / OUTLINE).parent.is_dir():
        outputs[root / OUTLINE] = syllabus.outline_source(notebooks)
    return outputs, problems


def build(root: Path = ROOT) -> list[Path]:
    """Write notebooks/ (and refresh set-up cells and the README syllabus); return the files that changed.

    Raises:
        ValueError: when a solution notebook breaks the metadata contract.
    """
    outputs, problems = planned_outputs(root)
    if problems:
        raise ValueError("the solution notebooks break the course contract:\n  " + "\n  ".join(problems))
    (root / "notebooks").mkdir(exist_ok=True)
    changed = []
    for path, text in outputs.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    expected = {root / "notebooks" / p.name for p in solution_paths(root)}
    for stale in sorted((root / "notebooks").glob("*.ipynb")):
        if stale not in expected:
            stale.unlink()
            changed.append(stale)
    return changed


def out_of_date(root: Path = ROOT) -> list[str]:
    """Return one line per file that ``build`` would change or delete, and per contract problem."""
    outputs, problems = planned_outputs(root)
    lines = list(problems)
    for path, text in outputs.items():
        if not path.exists():
            lines.append(f"{path.relative_to(root)} is missing")
        elif path.read_text(encoding="utf-8") != text:
            lines.append(f"{path.relative_to(root)} is out of date")
    expected = {root / "notebooks" / p.name for p in solution_paths(root)}
    lines += [f"{p.relative_to(root)} has no solution notebook" for p in sorted((root / "notebooks").glob("*.ipynb"))
              if p not in expected]
    return lines


def execute(paths: list[Path], *, timeout: int = 600) -> None:
    """Execute solution notebooks in place (working directory: their folder) and store outputs and CPU time."""
    import nbclient

    from course_utils.device import get_device

    for path in paths:
        notebook = contract.read_notebook(path)
        contract.refresh_setup_cell(notebook)
        client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3", record_timing=False,
                                         store_widget_state=False,
                                         resources={"metadata": {"path": str(Path(path).resolve().parent)}})
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
        if get_device().type == "cpu":
            notebook.metadata["course"]["cpu_seconds"] = int(5 * math.ceil(seconds / 5))
        contract.write_notebook(notebook, Path(path))
        print(f"executed {path} in {seconds:.1f} s")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m course_utils.authoring", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="write notebooks/ and the README syllabus from solutions/")
    commands.add_parser("check", help="fail when notebooks/ or the README are out of date")
    run = commands.add_parser("execute", help="execute solution notebooks in place")
    run.add_argument("notebooks", nargs="+", type=Path)
    imp = commands.add_parser("import-script", help="convert a percent-format script into a solution notebook")
    imp.add_argument("script", type=Path)
    imp.add_argument("notebook", type=Path)
    hashes = commands.add_parser("quiz-hash", help="print the salted hashes of quiz answers")
    hashes.add_argument("exercise_id")
    hashes.add_argument("values", nargs="+", help="Python literals, e.g. \"'b'\" or \"{3, 4, 5}\"")
    hashes.add_argument("--question", help="the question's name (the variable the student assigns)")
    hashes.add_argument("--form", help="the form, e.g. \"Choice('abcd')\", for a question not declared yet")
    args = parser.parse_args(argv)
    if args.command == "build":
        try:
            changed = build()
        except ValueError as error:
            print(error, file=sys.stderr)
            return 1
        print("\n".join(f"wrote {p.relative_to(ROOT)}" for p in changed) or "everything is up to date")
    elif args.command == "check":
        lines = out_of_date()
        if lines:
            print("out of date (run `python -m course_utils.authoring build`):\n  " + "\n  ".join(lines),
                  file=sys.stderr)
            return 1
        print(f"{len(solution_paths())} notebooks in sync")
    elif args.command == "execute":
        execute(args.notebooks)
    elif args.command == "quiz-hash":
        from course_utils.authoring.quiz_hash import quiz_hash_lines

        try:
            print("\n".join(quiz_hash_lines(args.exercise_id, args.values, question=args.question, form=args.form)))
        except ValueError as error:
            print(error, file=sys.stderr)
            return 1
    else:
        from course_utils.authoring.percent_script import import_script

        import_script(args.script, args.notebook)
        print(f"wrote {args.notebook}")
    return 0

