"""A fresh copy of the course's checker for each check cell of a graded notebook (runs inside the grading kernel).

Student code shares the kernel with the checker, so it can reach the checker's module objects: through a function's
``__globals__``, ``sys.modules``, ``importlib`` with a computed name, ``gc``. The grader therefore never trusts those
objects. Each check cell execs this file in a private namespace and binds ``check`` to ``fresh_check(settings)``:

1. while the check runs, the checker's modules (the *fresh set*: the module ``check`` comes from and, for the course
   package, ``course_utils.exercises`` except the modules the notebook itself imports) are swapped out of
   ``sys.modules`` and loaded again from the course's files by a finder put first on ``sys.meta_path``;
2. after the check, the course modules the checker relies on (the shared toolkit it imports, followed through their
   own imports) are compared with their files: every function and class method must still have the course's own
   code. Anything replaced or rewritten makes the check fail, so a tampered check earns nothing;
3. the student's modules are put back, so later cells see the kernel as they left it.

It imports only the standard library, and nothing from ``course_utils``.
"""

from __future__ import annotations

GENERATED = frozenset({"__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__", "__lt__", "__le__",
                       "__gt__", "__ge__", "__getstate__", "__setstate__", "__match_args__"})
"""Methods that ``dataclasses`` writes with ``exec`` (their code says ``<string>``): not a sign of tampering."""


def fresh_check(settings: dict):
    """Return a ``check`` that runs a fresh copy of the course's checker, then verifies the course's code.

    Args:
        settings: ``root`` (the course root), ``module`` and ``name`` (``from module import name``), ``exact`` and
            ``trees`` (module names that are fresh, themselves / with their submodules), ``shared`` (modules of the
            trees that stay shared) and ``package`` (the course package whose modules are verified).
    """
    import ast
    import os
    import sys
    import types
    from importlib.util import spec_from_file_location

    root, package = settings["root"], settings["package"]
    exact, trees, shared = set(settings["exact"]), tuple(settings["trees"]), set(settings["shared"])

    def is_fresh(name: str) -> bool:
        if name in shared:
            return False
        return name in exact or any(name == tree or name.startswith(tree + ".") for tree in trees)

    def source_path(name: str) -> str | None:
        base = os.path.join(root, *name.split("."))
        for candidate in (os.path.join(base, "__init__.py"), base + ".py"):
            if os.path.isfile(candidate):
                return candidate
        return None

    class FreshFinder:
        """Serves the fresh set from the course's files, before any other finder can."""

        @staticmethod
        def find_spec(name, path=None, target=None):
            if not is_fresh(name):
                return None
            found = source_path(name)
            if found is None:
                return None
            search = [os.path.dirname(found)] if found.endswith("__init__.py") else None
            return spec_from_file_location(name, found, submodule_search_locations=search)

    def run(*args, **kwargs):
        exercise = args[0] if args and isinstance(args[0], str) else "this exercise"
        if sys.gettrace() is not None or sys.getprofile() is not None:
            raise AssertionError(f"\u2718 {exercise}: a trace or profile function (sys.settrace, sys.setprofile) is "
                                 "watching the kernel, so the check cannot be trusted")
        saved = {name: module for name, module in sys.modules.items() if is_fresh(name)}
        for name in saved:
            del sys.modules[name]
        before = set(sys.modules)
        finder = FreshFinder()
        sys.meta_path.insert(0, finder)
        loaded: dict = {}
        try:
            __import__(settings["module"])
            module = sys.modules[settings["module"]]
            failure = getattr(module, "CheckFailed", AssertionError)
            result = getattr(module, settings["name"])(*args, **kwargs)
        finally:
            sys.meta_path[:] = [entry for entry in sys.meta_path if entry is not finder]
            loaded = {name: sys.modules.pop(name) for name in list(sys.modules) if is_fresh(name)}
            sys.modules.update(saved)
            for name in set(sys.modules) - before:   # what the check imported for the first time stays, as an
                parent, _, child = name.rpartition(".")  # import would leave it: an attribute of its package
                if parent in saved:
                    setattr(saved[parent], child, sys.modules[name])
        problems = verify(loaded)
        if problems:
            raise failure(f"\u2718 {exercise}: the grader found the course's code changed in this kernel, so the "
                          "check cannot be trusted:\n  - " + "\n  - ".join(problems[:8]))
        return result

    def course_imports(path: str) -> set:
        with open(path, "rb") as handle:
            tree = ast.parse(handle.read(), path)
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        return {name for name in names if name == package or name.startswith(package + ".")}

    def verify(loaded: dict) -> list:
        todo = set()
        for module in loaded.values():
            path = getattr(module, "__file__", None)
            if isinstance(path, str) and os.path.isfile(path):
                todo |= course_imports(path)
        done, problems = set(), []
        while todo:
            name = todo.pop()
            if name in done or is_fresh(name) or name not in sys.modules:
                continue
            done.add(name)
            path = source_path(name)
            if path is None:
                continue
            problems += verify_module(name, sys.modules[name], path)
            todo |= course_imports(path) - done
        return problems

    def verify_module(name: str, module, path: str) -> list:
        where = getattr(module, "__file__", None)
        if not isinstance(module, types.ModuleType) or not isinstance(where, str) or (
                os.path.realpath(where) != os.path.realpath(path)):
            return [f"sys.modules[{name!r}] is not the course's module {name}"]
        with open(path, "rb") as handle:
            tree = ast.parse(handle.read(), path)
        codes: dict = {}
        collect(compile(tree, path, "exec", dont_inherit=True), "", codes)
        problems = []
        namespace = vars(module)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if not same_function(namespace.get(node.name), codes.get(node.name, ()), namespace):
                    problems.append(f"{name}.{node.name} is not the course's function")
            elif isinstance(node, ast.ClassDef):
                problems += verify_class(f"{name}.{node.name}", namespace.get(node.name), node, codes, path,
                                         namespace)
        return problems

    def verify_class(label: str, cls, node, codes: dict, path: str, namespace: dict) -> list:
        if not isinstance(cls, type):
            return [f"{label} is not the course's class"]
        problems, defined = [], set()
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                defined.add(item.name)
                if not same_function(vars(cls).get(item.name), codes.get(f"{node.name}.{item.name}", ()), namespace):
                    problems.append(f"{label}.{item.name} is not the course's method")
        for key, value in vars(cls).items():
            function = unwrap(value)
            if key in defined or not isinstance(function, types.FunctionType):
                continue
            filename = function.__code__.co_filename
            if filename != path and not (filename == "<string>" and key in GENERATED):
                problems.append(f"{label}.{key} was added to the course's class")
        return problems

    def same_function(value, expected, namespace: dict) -> bool:
        function = unwrap(value)
        if not isinstance(function, types.FunctionType):   # a wrapper we cannot see through: only a few kinds
            return value is not None and not isinstance(value, (types.MethodType, types.BuiltinFunctionType))
        return function.__globals__ is namespace and any(function.__code__ == code for code in expected)

    def unwrap(value):
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        elif isinstance(value, property):
            value = value.fget
        for _ in range(8):
            inner = vars(value).get("__wrapped__") if hasattr(value, "__dict__") else None
            if inner is None:
                break
            value = inner
        return value

    def collect(code, prefix: str, out: dict) -> None:
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                qualname = f"{prefix}{const.co_name}"
                out.setdefault(qualname, []).append(const)
                collect(const, f"{qualname}." if not const.co_name.startswith("<") else prefix, out)

    return run
