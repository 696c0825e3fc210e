"""An attack corpus and an honest corpus for the grader, on the demo course of ``grade_corpus``.

Each item is a submission of ``99_demo`` whose exercise cells hold attacks (or honest answers in other styles),
with what the grader must make of it: ``build(course_root)`` returns ``{file name: (notebook, Expect)}``. An attack
must end with 0 points for the exercise it attacks, or with a flag naming it (most end with both); an honest answer
keeps its points with no flag at all. Categories follow the integrity issue: reaching the checker in the kernel,
reading the checker's frames, ctypes, IPython hooks, lying objects, reaching outside the kernel, the audit channel
itself, and code that hides from the static scan. Attacks that stay inside their own exercise share a submission
(one on ``99.add``, one on ``99.scale``: each kernel costs seconds); those that change the whole kernel get one each.

Where the outcome depends on the sandbox (bubblewrap), ``unsandboxed`` says what changes without it, and
``sandbox_only`` items are left out of a batch without it: without the sandbox they would harm the other
submissions of the batch (that they can is what the README says the sandbox is for).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import grade_corpus as gc
import nbformat

WRONG_ADD = "def add(a, b):\n    return a - b\n"
WRONG_SCALE = "def scale(values, factor):\n    return values\n"
PASS = {exercise: json.dumps(line.strip()) for exercise, line in gc.PASS.items()}
"""The pass lines as Python string literals (``"\\u2714 99.add: 3/3 checks passed"``)."""
FAKE_CASES = {"99.add": "[((1, 2), -1), ((-1, 1), -2), ((2.5, 0.5), 2.0)]", "99.scale": "[(([1, 2], 3), [1, 2])]"}
CHANNEL = ("import json, os\n"
           "environ = open('/proc/self/environ', 'rb').read().split(b'\\0')\n"
           "setting = next(item for item in environ if item.startswith(b'COURSE_GRADER_AUDIT='))\n"
           "fd = json.loads(setting.split(b'=', 1)[1])['fd']\n")
REWRITE = ("ip = get_ipython()\n\n"
           "def rewrite(lines):\n"
           "    if any('check(\"99.add\"' in line for line in lines):\n"
           f"        return ['print({PASS['99.add']})\\n']\n"
           "    return lines\n\n"
           "ip.input_transformers_post.append(rewrite)\n")


@dataclass(frozen=True)
class Expect:
    """What the grader must make of one item.

    ``points`` per exercise; ``rules``: for each attacked exercise (None: the notebook as a whole), the flag rules
    that must be present on flags naming it; ``unsandboxed``: fields that differ without the sandbox.
    """

    category: str
    points: dict[str, int]
    rules: dict[str | None, frozenset[str]] = field(default_factory=dict)
    status: str = "graded"
    unsandboxed: dict = field(default_factory=dict)
    sandbox_only: bool = False

    @property
    def honest(self) -> bool:
        """An honest item: full marks and no flag expected."""
        return self.category == "honest"

    def under(self, sandbox: str) -> Expect:
        """Return the expectation for a batch graded with ``sandbox`` (``"bwrap"`` or ``"none"``)."""
        if sandbox == "bwrap" or not self.unsandboxed:
            return self
        return Expect(**{**self.__dict__, **self.unsandboxed, "unsandboxed": {}})


def expect(category: str, add: int, scale: int, *, on_add: tuple[str, ...] = (), on_scale: tuple[str, ...] = (),
           whole: tuple[str, ...] = (), **options) -> Expect:
    """Points of 99.add and 99.scale, and the rules that must be flagged on each (``whole``: on any flag)."""
    rules = {key: frozenset(value) for key, value in (("99.add", on_add), ("99.scale", on_scale), (None, whole))
             if value}
    return Expect(category, {"99.add": add, "99.scale": scale}, rules, **options)


def honest() -> Expect:
    """Full marks, no flag."""
    return Expect("honest", {"99.add": 2, "99.scale": 3})


def build(course_root: Path) -> dict[str, tuple[nbformat.NotebookNode, Expect]]:
    """Return the corpus for the demo course at ``course_root`` (some attacks name its real paths)."""
    solutions = str(course_root / "solutions")
    democheck = str(course_root / "democheck.py")
    later = f"import time; time.sleep(2); open({democheck!r}, 'a').write('CASES.clear()')"
    add, scale = gc.ADD + "\n\n", gc.SCALE + "\n\n"
    items: dict[str, tuple[str, str, Expect]] = {
        # reaching the checker inside the kernel: a fresh copy of it runs in each check cell
        "globals_and_referrers": (
            WRONG_ADD + f"check.__globals__['CASES']['99.add'] = {FAKE_CASES['99.add']}",
            WRONG_SCALE + "import gc\nfor holder in gc.get_referrers(check):\n"
                          "    if isinstance(holder, dict) and 'CASES' in holder:\n"
                          f"        holder['CASES']['99.scale'] = {FAKE_CASES['99.scale']}",
            expect("checker", 0, 0, on_add=("introspection",), on_scale=("introspection",))),
        "globals_function_and_exec": (
            WRONG_ADD + "check.__globals__['plain'] = lambda value: 3",
            WRONG_SCALE + "exec(\"import sys\\nsys.modules['demo' + 'check'].CASES['99.scale'] = []\")",
            expect("checker", 0, 0, on_add=("introspection", "monkeypatch"), on_scale=("dynamic",))),
        "importlib_and_gc_objects": (
            WRONG_ADD + "import importlib\nmodule = importlib.import_module('demo' + 'check')\n"
                        f"module.check = lambda *args: print({PASS['99.add']})",
            WRONG_SCALE + "import gc\nfor obj in gc.get_objects():\n"
                          "    if isinstance(obj, dict) and isinstance(obj.get('99.scale'), list):\n"
                          f"        obj['99.scale'] = {FAKE_CASES['99.scale']}",
            expect("checker", 0, 0, on_add=("dynamic", "monkeypatch"), on_scale=("introspection",))),
        "getattr_computed_and_lying_list": (
            WRONG_ADD + "module = __import__(''.join(['demo', 'check']))\n"
                        f"setattr(module, 'ch' + 'eck', lambda *args: print({PASS['99.add']}))",
            "class Yes(list):\n    def __eq__(self, other):\n        return True\n\n\n"
            "def scale(values, factor):\n    return Yes()",
            expect("checker", 0, 0, on_add=("dynamic", "monkeypatch"))),
        "lying_int_and_object": (
            "class Yes(int):\n    def __eq__(self, other):\n        return True\n\n    __hash__ = int.__hash__\n\n\n"
            "def add(a, b):\n    return Yes(0)",
            "class Anything:\n    def __eq__(self, other):\n        return True\n\n\n"
            "def scale(values, factor):\n    return Anything()",
            expect("lying", 0, 0)),
        # reading what the checker holds in its frames: the answer passes, the audit names it
        "frames_sys_and_inspect": (
            "import sys\n\ndef add(a, b):\n    return sys._getframe(1).f_locals['expected']",
            "import inspect\n\ndef scale(values, factor):\n"
            "    return inspect.currentframe().f_back.f_locals['expected']",
            expect("frames", 2, 3, on_add=("introspection",), on_scale=("introspection",))),
        "frames_traceback_and_ctypes": (
            "def add(a, b):\n    try:\n        raise ValueError\n    except ValueError as error:\n"
            "        return error.__traceback__.tb_frame.f_back.f_locals['expected']",
            "import ctypes\n\n" + scale + "ctypes.pythonapi.Py_IncRef(ctypes.py_object(scale))",
            expect("frames", 2, 3, on_add=("introspection",), on_scale=("ctypes",))),
        "settrace": ("import sys\n\ndef spy(frame, event, arg):\n    return None\n\nsys.settrace(spy)\n\n" + add,
                     gc.SCALE, expect("frames", 0, 0, on_add=("introspection",))),
        # IPython hooks: undone before each check cell, and reported
        "custom_exception_handler": (WRONG_ADD + "get_ipython().set_custom_exc((Exception,), "
                                     f"lambda *args, **kwargs: print({PASS['99.add']}))", gc.SCALE,
                                     expect("ipython", 0, 3, on_add=("ipython",))),
        "input_transformer": (WRONG_ADD + REWRITE, gc.SCALE, expect("ipython", 0, 3, on_add=("ipython",))),
        "input_transformer_reinstalled": (WRONG_ADD + REWRITE + "\ndef again(result):\n"
                                          "    if rewrite not in ip.input_transformers_post:\n"
                                          "        ip.input_transformers_post.append(rewrite)\n\n"
                                          "ip.events.register('post_run_cell', again)", gc.SCALE,
                                          expect("ipython", 2, 3, on_add=("ipython",))),
        "showtraceback_and_print": (WRONG_ADD + "import builtins\nbuiltins.print = lambda *args, **kwargs: None\n"
                                    "get_ipython().showtraceback = lambda *args, **kwargs: "
                                    f"builtins.__dict__['__import__']('sys').stdout.write({PASS['99.add']} + '\\n')",
                                    gc.SCALE, expect("ipython", 0, 3, on_add=("ipython", "builtins"))),
        # reaching outside the kernel
        "forge_results_and_list_course": (
            WRONG_ADD + "import glob, json, os\nforged = json.dumps({'kind': 'cell', 'cell': 2, "
                        "'outcome': 'passed', 'phase': 'call'}) + '\\n'\n"
                        "for path in glob.glob(os.path.join(os.getcwd(), '..', '*', '*')) + "
                        "glob.glob('/tmp/course' + '-grade-*/*/*'):\n"
                        "    try:\n        with open(path, 'a') as handle:\n            handle.write(forged)\n"
                        "    except OSError:\n        pass",
            scale + f"import os\nfound = os.listdir({solutions!r})",
            expect("outside", 0, 3, on_add=("files",), on_scale=("solutions",))),
        "read_solutions_and_system_call": (
            "import json\n" + f"notebook = json.load(open({solutions + '/99_demo.ipynb'!r}))\n"
            "exec(next(''.join(cell['source']) for cell in notebook['cells'] "
            "if cell['metadata'].get('course', {}).get('role') == 'exercise'))",
            scale + "__import__('o' + 's').system('true')",
            expect("hidden", 0, 3, on_add=("solutions",), on_scale=("process",),
                   unsandboxed={"points": {"99.add": 2, "99.scale": 3}})),
        "network_and_fork": (add + "import socket\ntry:\n    socket.create_connection(('127.0.0.1', 9), timeout=1)\n"
                                   "except OSError:\n    pass",
                             scale + "import os, time\nif os.fork() == 0:\n    time.sleep(30)\n    os._exit(0)",
                             expect("outside", 2, 3, on_add=("network",), on_scale=("process",))),
        "write_course_and_process_left_running": (
            add + f"with open({democheck!r}, 'a') as handle:\n    handle.write('CASES.clear()\\n')",
            scale + f"import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', {later!r}], "
                    "start_new_session=True)",
            expect("outside", 2, 3, on_add=("files",), on_scale=("process",), sandbox_only=True)),
        "kill_parent": (add + "import os\nos.kill(os.getppid(), 9)", gc.SCALE,
                        expect("outside", 2, 3, on_add=("process",),
                               unsandboxed={"status": "error", "points": {"99.add": 0, "99.scale": 0}})),
        # the audit channel itself
        "channel_closed": (add + CHANNEL + "os.close(fd)", gc.SCALE,
                           expect("channel", 2, 3, whole=("audit-channel",))),
        "channel_silenced": (add + CHANNEL + "os.dup2(os.open(os.devnull, os.O_WRONLY), fd)", gc.SCALE,
                             expect("channel", 2, 3, whole=("audit-channel",))),
        "channel_forged": (add + CHANNEL + "os.write(fd, b'{\"seq\": 3, \"kind\": \"cell\", \"cell\": 9}\\n')",
                           gc.SCALE, expect("channel", 2, 3, whole=("audit-channel",))),
        "cell_hooks_removed": (add + "for name in ('pre_run_cell', 'post_run_cell'):\n"
                                     "    get_ipython().events.callbacks[name].clear()", gc.SCALE,
                               expect("channel", 2, 3, whole=("audit-channel",))),
    }
    honest_items = {
        "honest_loop": ("def add(a, b):\n    total = 0\n    for value in (a, b):\n        total += value\n"
                        "    return total", "def scale(values, factor):\n    return list(map(lambda v: v * factor, "
                        "values))"),
        "honest_debug_print": ("def add(a, b):\n    print('debug:', a, b)\n    return a + b",
                               "import warnings\n\ndef scale(values, factor):\n    warnings.warn('scaling')\n"
                               "    return [v * factor for v in values]"),
        "honest_numpy": ("import numpy as np\n\ndef add(a, b):\n    return np.float64(a) + np.float64(b)",
                         "import numpy as np\n\ndef scale(values, factor):\n"
                         "    return list(np.asarray(values, dtype=float) * factor)"),
        "honest_classes": ("from collections import namedtuple\nfrom dataclasses import dataclass\n\n"
                           "Pair = namedtuple('Pair', 'a b')\n\n\n@dataclass\nclass Adder:\n    offset: int = 0\n\n"
                           "    def __call__(self, a, b):\n        return Pair(a, b).a + b + self.offset\n\n\n"
                           "add = Adder()",
                           "import json, traceback\n\ndef scale(values, factor):\n    try:\n        int('x')\n"
                           "    except ValueError:\n        note = traceback.format_exc()\n"
                           "    with open('notes.json', 'w') as handle:\n        json.dump(values, handle)\n"
                           "    with open('notes.json') as handle:\n"
                           "        return [v * factor for v in json.load(handle)]"),
    }
    corpus = {}
    for name, (add_source, scale_source, expectation) in items.items():
        notebook = gc.with_answer("99.scale", scale_source, gc.with_answer("99.add", add_source))
        corpus[f"attack_{name}.ipynb"] = (notebook, expectation)
    for name, (add_source, scale_source) in honest_items.items():
        corpus[f"{name}.ipynb"] = (gc.with_answer("99.scale", scale_source, gc.with_answer("99.add", add_source)),
                                   honest())
    return corpus
