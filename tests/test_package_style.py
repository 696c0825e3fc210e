"""House rules of the package: no work at import time, small modules, no hard-coded devices, documented API."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import course_utils

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "course_utils"
MODULES = sorted(info.name for info in pkgutil.walk_packages([str(PACKAGE)], prefix="course_utils.")
                 if not info.name.endswith("__main__"))


def test_importing_every_module_changes_no_global_state():
    code = f"""
import random, numpy as np, torch, matplotlib
rc = dict(matplotlib.rcParams); np_state = np.random.get_state()[1].copy(); py_state = random.getstate()
torch_seed = torch.initial_seed(); torch_state = torch.get_rng_state().clone()
import importlib
for name in {MODULES!r}:
    importlib.import_module(name)
assert dict(matplotlib.rcParams) == rc, "rcParams changed at import"
assert (np.random.get_state()[1] == np_state).all(), "numpy's global generator changed at import"
assert random.getstate() == py_state, "random's state changed at import"
assert torch.initial_seed() == torch_seed and torch.equal(torch.get_rng_state(), torch_state), "torch seeded"
print("clean")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and result.stdout.strip() == "clean", result.stderr[-2000:]


def test_modules_stay_small():
    long = {p.relative_to(ROOT).as_posix(): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 330}
    assert not long, f"split these modules by concern (about 300 lines at most): {long}"


def test_init_is_short_and_reexports_only():
    text = (PACKAGE / "__init__.py").read_text(encoding="utf-8")
    assert len(text.splitlines()) < 80
    assert "import *" not in text
    for name in course_utils.__all__:
        assert hasattr(course_utils, name), name


def test_no_hard_coded_cuda_outside_device_module():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "device.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ('"cuda"' in line or "'cuda'" in line or ".cuda()" in line) and "type ==" not in line:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "use course_utils.device.get_device():\n" + "\n".join(offenders)


def test_public_functions_are_documented():
    missing = []
    for name in course_utils.__all__:
        obj = getattr(course_utils, name)
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and not inspect.getdoc(obj):
            missing.append(name)
    assert not missing, f"public names without a docstring: {missing}"


def test_tooling_imports_no_heavy_library():
    code = ("import sys, course_utils, course_utils.grade, course_utils.authoring, course_utils.exercises\n"
            "heavy = sorted(m for m in ('torch', 'av', 'matplotlib', 'ipywidgets') if m in sys.modules)\n"
            "print(heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]", f"importing the tooling loaded {result.stdout.strip()}"


def test_no_topic_prefixed_module_in_the_package_root():
    topics = ("rf_", "non_local", "sampling_", "fixed_point", "resnet", "inflation", "receptive_field")
    flat = [p.name for p in PACKAGE.glob("*.py") if p.name.startswith(topics)]
    assert not flat, f"move these into their topic's subpackage: {flat}"


def test_no_reexported_name_is_shadowed_by_a_submodule():
    """Importing a submodule sets the package attribute of that name, which would hide a lazily re-exported one."""
    clashes = []
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="course_utils."):
        if not info.ispkg:
            continue
        package = importlib.import_module(info.name)
        submodules = {sub.name for sub in pkgutil.iter_modules(package.__path__)}
        clashes += [f"{info.name}.{name}" for name in getattr(package, "__all__", ()) if name in submodules]
    top = {sub.name for sub in pkgutil.iter_modules(course_utils.__path__)}
    clashes += [f"course_utils.{name}" for name in course_utils.__all__ if name in top]
    assert not clashes, f"rename the module or the name: {clashes}"
