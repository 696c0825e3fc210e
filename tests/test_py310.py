"""The package, benchmarks and notebooks use nothing beyond Python 3.10 and nothing removed up to Python 3.13.

Colab and students run anything from 3.10 to 3.13 while the course is developed on 3.11, so:
* every module and every notebook code cell (IPython magics and shell lines blanked) parses with
  ``ast.parse(feature_version=(3, 10))`` and compiles without an invalid-escape warning (an error in future Pythons);
* no import of a standard-library module or name added after 3.10, or removed by 3.13 (PEP 594 and friends);
* where the real interpreters are installed (on PATH, or by pyenv), each compiles every source too.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Standard-library modules (or names in them) that Python 3.10 lacks.
NEW_AFTER_310 = {
    "tomllib": None, "wsgiref.types": None,
    "typing": {"Self", "LiteralString", "Never", "TypeVarTuple", "Unpack", "Required", "NotRequired",
               "assert_never", "assert_type", "reveal_type", "dataclass_transform", "override", "TypeAliasType",
               "get_overloads", "clear_overloads", "ReadOnly", "TypeIs", "NoDefault", "get_protocol_members",
               "is_protocol"},
    "enum": {"StrEnum", "ReprEnum", "EnumCheck", "FlagBoundary", "verify", "member", "nonmember", "global_enum",
             "show_flag_values", "property"},
    "datetime": {"UTC"}, "itertools": {"batched"}, "hashlib": {"file_digest"}, "contextlib": {"chdir"},
    "operator": {"call"}, "math": {"cbrt", "exp2", "sumprod", "fma"}, "asyncio": {"TaskGroup", "timeout",
                                                                                  "Runner", "timeout_at"},
    "functools": {"Placeholder"}, "copy": {"replace"}, "warnings": {"deprecated"}, "pathlib": {"UnsupportedOperation"},
}
# Standard-library modules removed in 3.12 or 3.13, and third-party ones that new environments no longer carry.
REMOVED_MODULES = {
    "aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "mailcap", "msilib", "nis", "nntplib",
    "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib", "lib2to3",       # 3.13 (PEP 594)
    "distutils", "imp", "asynchat", "asyncore", "smtpd",                                           # 3.12
    "pkg_resources",                                                  # setuptools is absent from 3.12+ environments
}
# Functions removed from modules that still exist.
REMOVED_NAMES = {
    "inspect": {"getargspec", "formatargspec"}, "asyncio": {"coroutine"}, "locale": {"resetlocale"},
    "unittest": {"makeSuite", "findTestCases", "getTestCaseNames"}, "configparser": {"SafeConfigParser"},
    "ssl": {"wrap_socket", "match_hostname"}, "gettext": {"lgettext", "ldgettext", "lngettext", "ldngettext"},
    "typing": {"io", "re"}, "binascii": {"b2a_hqx", "a2b_hqx", "rlecode_hqx", "rledecode_hqx"},
}
_MAGIC = re.compile(r"^(\s*)(%|!|\?)")


def course_sources() -> list[tuple[str, str]]:
    """(name, Python source) of every package and benchmark module and every notebook code cell."""
    sources = []
    for folder in ("course_utils", "benchmarks"):
        for path in sorted((REPO / folder).rglob("*.py")):
            sources.append((str(path.relative_to(REPO)), path.read_text(encoding="utf-8")))
    for folder in ("solutions", "notebooks"):
        for path in sorted((REPO / folder).glob("*.ipynb")):
            notebook = json.loads(path.read_text(encoding="utf-8"))
            for index, cell in enumerate(notebook["cells"]):
                if cell["cell_type"] == "code":
                    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                    sources.append((f"{path.relative_to(REPO)} cell {index}", strip_magics(source)))
    return sources


def strip_magics(source: str) -> str:
    """Blank IPython-only lines (``%magic``, ``!shell``, ``?help``; a ``%%cell`` magic blanks the cell)."""
    if source.lstrip().startswith("%%"):
        return ""
    return "\n".join(_MAGIC.sub(r"\1pass  # ", line) for line in source.split("\n"))


def version_problems(name: str, source: str) -> list[str]:
    """What in ``source`` needs a Python newer than 3.10 or is gone by 3.13 (an empty list when nothing)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")       # the compile below reports warnings
            tree = ast.parse(source, filename=name, feature_version=(3, 10))
    except SyntaxError as error:
        return [f"{name}:{error.lineno}: not Python 3.10 syntax: {error.msg}"]
    problems = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # invalid escapes: DeprecationWarning in 3.11, SyntaxWarning 3.12+
        try:
            compile(source, name, "exec", dont_inherit=True)
        except (SyntaxError, SyntaxWarning, DeprecationWarning) as error:
            problems.append(f"{name}: {error}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported = [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported = [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            imported = [(node.value.id, node.attr)]         # e.g. inspect.getargspec(...)
        else:
            continue
        for module, attribute in imported:
            where = f"{name}:{node.lineno}"
            if module.split(".")[0] in REMOVED_MODULES and not isinstance(node, ast.Attribute):
                problems.append(f"{where}: imports {module}, which Python 3.12/3.13 environments lack")
            if module in NEW_AFTER_310 and NEW_AFTER_310[module] is None and not isinstance(node, ast.Attribute):
                problems.append(f"{where}: imports {module}, which Python 3.10 lacks")
            if attribute and attribute in (NEW_AFTER_310.get(module) or ()):
                problems.append(f"{where}: uses {module}.{attribute}, which Python 3.10 lacks")
            if attribute and attribute in REMOVED_NAMES.get(module, ()):
                problems.append(f"{where}: uses {module}.{attribute}, removed by Python 3.13")
    return problems


def test_there_is_code_to_check():
    names = [name for name, _ in course_sources()]
    assert any(name.startswith("course_utils") for name in names), "no course_utils module found"


def test_course_code_needs_nothing_beyond_python_310():
    problems = [problem for name, source in course_sources() for problem in version_problems(name, source)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("source, expected", [
    ("try:\n    pass\nexcept* ValueError:\n    pass\n", "not Python 3.10 syntax"),
    ("def f[T](x: T) -> T:\n    return x\n", "not Python 3.10 syntax"),
    ("import tomllib\n", "imports tomllib"),
    ("from typing import Self\n", "typing.Self"),
    ("import itertools\nitertools.batched([1, 2], 1)\n", "itertools.batched"),
    ("import imghdr\n", "imports imghdr"),
    ("from distutils.version import LooseVersion\n", "imports distutils.version"),
    ("import inspect\ninspect.getargspec(len)\n", "inspect.getargspec"),
    ("pattern = '\\d+'\n", "invalid escape sequence"),
])
def test_the_checker_rejects_newer_or_removed_python(source, expected):
    problems = version_problems("example.py", source)
    assert any(expected in problem for problem in problems), problems


def test_the_checker_accepts_python_310_code_and_magics():
    source = strip_magics("%matplotlib inline\n!pip list\nimport re\nmatch re.match(r'\\d', '1'):\n"
                          "    case None:\n        pass\nx: int | None = None\n")
    assert version_problems("example.py", source) == []


def _pyenv_roots() -> list[Path]:
    """pyenv's root folders, found the way pyenv finds them, never through ``$HOME`` (a CI run may use a fresh one):
    ``PYENV_ROOT``, what ``pyenv root`` says, and the folders above pyenv's ``shims`` and its executable on PATH."""
    roots = [Path(os.environ["PYENV_ROOT"])] if os.environ.get("PYENV_ROOT") else []
    pyenv = shutil.which("pyenv")
    if pyenv:
        done = subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=30)
        if done.returncode == 0 and done.stdout.strip():
            roots.append(Path(done.stdout.strip()))
        roots.append(Path(pyenv).resolve().parent.parent)          # <root>/bin/pyenv or <root>/libexec/pyenv
    roots += [Path(p).parent for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p).name == "shims"]
    return list(dict.fromkeys(root for root in roots if (root / "versions").is_dir()))


def _interpreter(version: str) -> str | None:
    """A working ``python<version>``: one on PATH, else one installed by pyenv; None when there is none."""
    candidates = [Path(p) / f"python{version}" for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    for root in _pyenv_roots():
        candidates += sorted((root / "versions").glob(f"{version}.*/bin/python{version}"), reverse=True)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            probe = subprocess.run([str(candidate), "-c", "import sys; print(sys.version_info[:2])"],
                                   capture_output=True, text=True, timeout=60)
            if probe.returncode == 0 and probe.stdout.strip() == str(tuple(map(int, version.split(".")))):
                return str(candidate)
    return None


_COMPILE_ALL = """
import json, sys, warnings
warnings.simplefilter("error")
failed = []
for name, source in json.load(open(sys.argv[1], encoding="utf-8")):
    try:
        compile(source, name, "exec", dont_inherit=True)
    except (SyntaxError, SyntaxWarning, DeprecationWarning) as error:
        failed.append(f"{name}: {error!r}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def _compile_with(python: str, sources: list[tuple[str, str]], folder: Path) -> subprocess.CompletedProcess:
    path = folder / "sources.json"
    path.write_text(json.dumps(sources), encoding="utf-8")
    return subprocess.run([python, "-c", _COMPILE_ALL, str(path)], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("version", ["3.10", "3.13"])
def test_real_interpreter_compiles_course_code(version, tmp_path):
    python = _interpreter(version)
    if python is None:
        pytest.skip(f"no python{version} interpreter on this machine")
    probe = _compile_with(python, [("probe.py", "try:\n    pass\nexcept* ValueError:\n    pass\n"
                                    if version == "3.10" else "x = '\\d'\n")], tmp_path)
    assert probe.returncode == 1, f"python{version} accepted code it must reject: {probe.stdout}{probe.stderr}"
    result = _compile_with(python, course_sources(), tmp_path)
    assert result.returncode == 0, f"python{version} cannot compile:\n{result.stdout}{result.stderr}"
