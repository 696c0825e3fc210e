"""Static flags: code in an exercise cell that reaches into the grading machinery, for an instructor's review.

A flag never changes a grade. It names a rule, says what the line does, and quotes the line, so that an instructor
can judge in seconds whether it is a trick or an innocent line. Cells that are not plain Python (IPython magics,
shell escapes) are translated with IPython's own input transformer first; a cell that still does not parse is
scanned as text. The static scan is the second line of defence: the runtime audit (``audit``) sees what the code
does when it runs, and reports it with the same rule names (``RULES``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

CHECKER_NAMES = frozenset({"check", "run_checks", "get_exercise", "CheckFailed", "CaseFailure", "Exercise", "fail",
                           "expect_equal", "expect_close", "expect_true"})
"""Names of the check framework; binding one of them in an exercise cell replaces the checker."""

GRADER_MODULES = ("course_utils.exercises", "course_utils.grade", "course_utils.authoring", "nbval", "pytest",
                  "_pytest")
"""Modules of the checker and the grader; an exercise has no reason to import them."""

HARMLESS_COURSE_IMPORTS = frozenset({"course_utils", "course_utils.device", "course_utils.get_device",
                                     "course_utils.seed_everything", "course_utils.data", "course_utils.plot",
                                     "course_utils.video_io"})
"""Course modules that hold no reference answers: tools every notebook uses."""

RULES = {
    "checker": "redefines a name of the checker",
    "checker-import": "imports the checker or the grader",
    "course-import": "imports course code that the solution does not use (a reference implementation?)",
    "sys-modules": "touches sys.modules",
    "builtins": "touches builtins",
    "print": "replaces print or the output streams",
    "sys-attribute": "changes an attribute of sys",
    "monkeypatch": "changes an attribute of an object defined outside this cell",
    "solutions": "reaches for course files (solutions/, notebooks, module sources)",
    "ipython": "drives IPython itself (magics, shell commands, hooks)",
    "introspection": "inspects frames or live objects (could read the checker's expected values)",
    "dynamic": "runs dynamically built code (hides what it does)",
    "process": "reaches for the grading process or its signals",
    "nbval-marker": "carries an nbval control comment",
    "files": "reads or writes files outside its scratch folder (the grader's, the course's or other people's)",
    "ctypes": "uses ctypes (raw memory and C functions)",
    "network": "opens a network socket",
    "audit-channel": "closed, silenced or forged the grader's audit channel",
    "course-files": "the course's own files changed while this submission ran",
}

_OUTPUT_STREAMS = {"stdout", "stderr", "__stdout__", "__stderr__", "displayhook", "excepthook"}
_INTROSPECTION = {("sys", "_getframe"), ("sys", "settrace"), ("sys", "setprofile"), ("inspect", "currentframe"),
                  ("inspect", "stack"), ("inspect", "getouterframes"), ("inspect", "getsource"),
                  ("inspect", "getsourcefile"), ("inspect", "getfile"), ("gc", "get_objects"),
                  ("gc", "get_referrers"), ("gc", "get_referents")}
_DYNAMIC_CALLS = {"exec": "dynamic", "eval": "dynamic", "compile": "dynamic", "__import__": "dynamic",
                  "globals": "introspection", "vars": "introspection", "breakpoint": "introspection"}
_SUSPECT_MODULES = {"builtins": "builtins", "__builtin__": "builtins", "ctypes": "introspection",
                    "gc": "introspection", "importlib": "dynamic", "signal": "process", "IPython": "ipython",
                    "pkgutil": "solutions", "glob": "solutions"}
_TEXT_PATTERNS = [
    ("checker", re.compile(rf"\bdef\s+({'|'.join(CHECKER_NAMES)})\b|^\s*({'|'.join(CHECKER_NAMES)})\s*=")),
    ("checker-import", re.compile(r"\b(course_utils\.(exercises|grade|authoring)|nbval|pytest)\b")),
    ("sys-modules", re.compile(r"\bsys\.modules\b")),
    ("builtins", re.compile(r"\b__builtins?__\b|\bbuiltins\b")),
    ("print", re.compile(r"\bprint\s*=|\bsys\.(stdout|stderr)\s*=")),
    ("solutions", re.compile(r"solutions[/\\]|\.ipynb\b|__file__")),
    ("dynamic", re.compile(r"\b(exec|eval|__import__)\s*\(")),
    ("ipython", re.compile(r"\bget_ipython\b|^\s*[%!]")),
]


@dataclass(frozen=True, order=True)
class Finding:
    """One suspicious line: ``rule`` (a key of RULES), ``what`` it does, its 1-based ``line`` and its ``code``."""

    line: int
    rule: str
    what: str
    code: str


def scan(source: str, *, allowed: frozenset[tuple[str, str]] = frozenset()) -> list[Finding]:
    """Return the flags raised by an exercise cell's source, sorted by line.

    Args:
        source: the cell's source text.
        allowed: ``(rule, what)`` pairs to ignore, usually ``signature(solution source)``: whatever the course's own
            solution does is not suspicious.

    Returns:
        The flags, without duplicates, sorted by line then rule.
    """
    if not isinstance(source, str):
        raise TypeError(f"source must be a str, got {type(source).__name__}")
    lines = source.splitlines()
    found: set[Finding] = set()

    def add(rule: str, what: str, line: int) -> None:
        if (rule, what) not in allowed:
            text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
            found.add(Finding(line, rule, what, text[:160]))

    magic_lines = set()
    for number, text in enumerate(lines, 1):
        stripped = text.strip()
        if stripped.startswith(("%", "!")) or re.match(r"^[\w\s,]+=\s*[%!]", stripped):
            magic_lines.add(number)
            add("ipython", "runs an IPython magic or shell command", number)
        if re.match(r"#\s*NBVAL_\w+", stripped):
            add("nbval-marker", f"nbval comment {stripped.lstrip('#').strip()}", number)
    tree = _parse(source)
    if tree is None:
        for number, text in enumerate(lines, 1):
            for rule, pattern in _TEXT_PATTERNS:
                if pattern.search(text) and not (rule == "ipython" and number in magic_lines):
                    add(rule, f"(cell does not parse) matches {rule}", number)
    else:
        _Visitor(add, magic_lines).visit(tree)
    return sorted(found)


def signature(source: str) -> frozenset[tuple[str, str]]:
    """Return the ``(rule, what)`` pairs of a source, to pass as ``allowed`` when scanning a student's version."""
    return frozenset((flag.rule, flag.what) for flag in scan(source))


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except SyntaxError:
        pass
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        return ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError, ImportError):
        return None


class _Visitor(ast.NodeVisitor):
    """Walks a cell's syntax tree and reports suspicious constructs through ``add(rule, what, line)``."""

    def __init__(self, add, magic_lines: set[int]) -> None:
        self.add = add
        self.magic_lines = magic_lines
        self.modules: dict[str, str] = {}   # local alias -> imported module
        self.local: set[str] = set()        # names bound anywhere in the cell

    def visit_Module(self, node: ast.Module) -> None:
        for sub in ast.walk(node):
            self._collect_bindings(sub)
        self.generic_visit(node)

    def _collect_bindings(self, node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.local.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            self.local.add(node.id)
        elif isinstance(node, ast.arg):
            self.local.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                full = alias.name if isinstance(node, ast.Import) else f"{node.module or ''}.{alias.name}"
                self.modules[bound] = full if alias.asname or isinstance(node, ast.ImportFrom) else bound

    # imports -------------------------------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._imported(alias.name, node.lineno)
            self._bound(alias.asname or alias.name.split(".")[0], node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if module != "course_utils":   # for the package itself, judge each imported name
            self._imported(module, node.lineno)
        for alias in node.names:
            if module == "course_utils" or alias.name in CHECKER_NAMES:
                self._imported(f"{module}.{alias.name}", node.lineno)
            if module == "sys" and alias.name == "modules":
                self.add("sys-modules", "imports sys.modules", node.lineno)
            self._bound(alias.asname or alias.name, node.lineno)

    def _imported(self, module: str, line: int) -> None:
        top = module.split(".")[0]
        if any(module == m or module.startswith(m + ".") for m in GRADER_MODULES) or (
                module.startswith("course_utils.") and module.rsplit(".", 1)[-1] in CHECKER_NAMES):
            self.add("checker-import", f"imports {module}", line)
        elif top == "course_utils" and module not in HARMLESS_COURSE_IMPORTS:
            self.add("course-import", f"imports {module}", line)
        elif top in _SUSPECT_MODULES:
            self.add(_SUSPECT_MODULES[top], f"imports {top}", line)

    # bindings ------------------------------------------------------------------------------------------------
    def _bound(self, name: str, line: int) -> None:
        if name in CHECKER_NAMES:
            self.add("checker", f"binds the name {name}", line)
        elif name == "print":
            self.add("print", "binds the name print", line)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._bound(node.name, node.lineno)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._bound(node.name, node.lineno)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self._bound(node.id, node.lineno)
        if node.id in ("__builtins__", "__builtin__"):
            self.add("builtins", f"uses {node.id}", node.lineno)
        elif node.id == "get_ipython" and node.lineno not in self.magic_lines:
            self.add("ipython", "calls get_ipython", node.lineno)

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            self._bound(name, node.lineno)

    # attributes ----------------------------------------------------------------------------------------------
    def visit_Attribute(self, node: ast.Attribute) -> None:
        base = node.value.id if isinstance(node.value, ast.Name) else None
        module = self.modules.get(base, base) if base else None
        if module == "sys" and node.attr == "modules":
            self.add("sys-modules", "uses sys.modules", node.lineno)
        elif module and (module, node.attr) in _INTROSPECTION:
            rule = "solutions" if node.attr.startswith("getsource") or node.attr == "getfile" else "introspection"
            self.add(rule, f"uses {module}.{node.attr}", node.lineno)
        elif node.attr in ("__file__", "__path__", "__spec__", "__loader__"):
            self.add("solutions", f"uses {node.attr}", node.lineno)
        elif module == "os" and node.attr in ("getppid", "kill", "killpg", "_exit"):
            self.add("process", f"uses os.{node.attr}", node.lineno)
        elif node.attr in ("__globals__", "__code__", "__closure__", "f_back", "f_globals", "f_locals"):
            self.add("introspection", f"uses .{node.attr}", node.lineno)
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self._attribute_written(node, base, module)
        self.generic_visit(node)

    def _attribute_written(self, node: ast.Attribute, base: str | None, module: str | None) -> None:
        if node.attr == "print" or (module == "sys" and node.attr in _OUTPUT_STREAMS):
            self.add("print", f"replaces {module or '…'}.{node.attr}", node.lineno)
        elif module == "sys":
            self.add("sys-attribute", f"sets sys.{node.attr}", node.lineno)
        elif node.attr in CHECKER_NAMES:
            self.add("checker", f"replaces .{node.attr}", node.lineno)
        elif base is not None and (base in self.modules or base not in self.local):
            self.add("monkeypatch", f"sets {module}.{node.attr}", node.lineno)

    # calls and strings -------------------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name):
            if func.id in _DYNAMIC_CALLS:
                self.add(_DYNAMIC_CALLS[func.id], f"calls {func.id}()", node.lineno)
            elif func.id in ("setattr", "delattr") and node.args:
                target = node.args[0]
                name = target.id if isinstance(target, ast.Name) else None
                attr = node.args[1].value if len(node.args) > 1 and isinstance(node.args[1], ast.Constant) else "?"
                if name is None or name in self.modules or name not in self.local:
                    self.add("monkeypatch", f"calls {func.id}() on {name or 'an expression'}.{attr}", node.lineno)
        elif isinstance(func, ast.Attribute) and func.attr in ("redirect_stdout", "redirect_stderr"):
            self.add("print", f"calls {func.attr}()", node.lineno)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            text = node.value
            if re.search(r"(^|[/\\])solutions([/\\]|$)|\.ipynb\b", text) or text in ("solutions",):
                self.add("solutions", "names a course path", node.lineno)
            elif text.startswith("/proc") or "JPY_PARENT_PID" in text:
                self.add("process", "names the grading process", node.lineno)
