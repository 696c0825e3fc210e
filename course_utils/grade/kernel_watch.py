"""What the runtime audit compares between cells: state that Python raises no audit event for when it changes.

CPython audits neither ``setattr`` on a module or class nor the registration of IPython hooks, so after every cell
the audit compares a few things with how they were after the cell before:

* the callables of every loaded module (any change in the *core* modules the checker relies on, such as ``numpy``,
  ``torch``, ``builtins``, ``importlib`` and the course's own; elsewhere a replacement defined in a notebook cell),
  of the course's classes and of ``torch.Tensor`` and ``torch.nn.Module``;
* IPython itself: its shell, kernel, session, display hooks and output streams (instance and class attributes), its
  input and AST transformers, event callbacks and custom exception handler; ``sys.meta_path`` and the threads.

Runs inside the grading kernel, exec'd by ``kernel_audit`` into a private namespace; imports only the standard
library. Functions never call code of the objects they inspect: they read ``__dict__`` of exact types only.
"""

from __future__ import annotations

import sys
import types
from functools import partial

MISSING = object()
LIBRARY = "library"
IGNORED = frozenset({"sys.last_type", "sys.last_value", "sys.last_traceback", "sys.last_exc", "builtins.input",
                     "builtins.raw_input"})
"""Attributes that change in the normal course of things: IPython records the last error in ``sys``, and ipykernel
binds ``input`` to the request being answered."""


def defined_where(value, category) -> str | None:
    """Return the category (``"cell"``, ``"library"``, ...) of the code behind ``value``, or None when unknown.

    ``category`` maps a code file name to a category (see ``kernel_audit``).
    """
    for _ in range(4):
        kind = type(value)
        if kind is types.MethodType:
            value = value.__func__
        elif kind is partial:
            value = value.func
        else:
            break
    kind = type(value)
    if kind is types.FunctionType:
        return category(value.__code__.co_filename)
    if kind is type or (type(kind) is type and kind.__module__ != "builtins"):
        cls = value if kind is type else kind
        for item in type.__dict__["__dict__"].__get__(cls).values():
            if type(item) is types.FunctionType:
                return category(item.__code__.co_filename)
        return "cell" if cls.__module__ == "__main__" else None
    return None


def callables(namespace: dict) -> dict:
    """Return the entries of a ``__dict__`` whose values are callable (functions, classes, methods, modules)."""
    return {key: value for key, value in namespace.items()
            if type(key) is str and (callable(value) or type(value) is types.ModuleType)}


def watched(shell, core: tuple, course: tuple) -> list:
    """Return ``(label, rule, strict, added, namespace)`` for everything compared after each cell.

    ``strict``: any replacement counts (otherwise only one defined in a notebook cell); ``added``: new entries count
    too (``"any"``, ``"cell"`` for those defined in a cell, or ``""``).
    """
    found = []
    for name, module in list(sys.modules.items()):
        if type(module) is not types.ModuleType or type(name) is not str:
            continue
        strict = name in core or name.startswith(course)
        rule = {"builtins": "builtins", "sys": "sys-attribute"}.get(name, "monkeypatch")
        found.append((name, rule, strict, "cell" if name == "builtins" else "", module.__dict__))
        if name.startswith(course):
            for key, value in list(module.__dict__.items()):
                if type(value) is type and value.__module__ == name:
                    found.append((f"{name}.{key}", "monkeypatch", True, "any", _class_dict(value)))
    torch = sys.modules.get("torch")
    nn = torch.__dict__.get("nn") if type(torch) is types.ModuleType else None
    for label, cls in (("torch.Tensor", torch and torch.__dict__.get("Tensor")),
                       ("torch.nn.Module", type(nn) is types.ModuleType and nn.__dict__.get("Module"))):
        if type(cls) is type or (isinstance(cls, type) and type(type(cls)) is type):
            found.append((label, "monkeypatch", True, "any", _class_dict(cls)))
    kernel = getattr(shell, "kernel", None)
    objects = {"the IPython shell": shell, "the kernel": kernel,
               "the kernel's session": getattr(kernel, "session", None), "IPython's events": shell.events,
               "the display hook": shell.displayhook, "the display publisher": shell.display_pub,
               "the input transformer": shell.input_transformer_manager,
               "sys.stdout": sys.stdout, "sys.stderr": sys.stderr}
    for label, obj in objects.items():
        cls = type(obj)
        if obj is None or not _library_class(cls):
            continue   # replaced by something else: the identity check in ``sequences`` reports it
        rule = "print" if label.startswith("sys.std") else "ipython"
        try:
            found.append((label, rule, True, "any", object.__getattribute__(obj, "__dict__")))
        except AttributeError:
            pass
        for base in cls.__mro__[:-1]:
            found.append((f"{label} ({base.__name__})", rule, True, "any", _class_dict(base)))
    return found


LIBRARIES = ("IPython", "ipykernel", "jupyter_client", "traitlets", "zmq")
"""Packages whose objects (shell, kernel, streams) the audit reads attributes of directly."""


def _class_dict(cls: type) -> dict:
    return type.__dict__["__dict__"].__get__(cls)


def _library_class(cls: type) -> bool:
    """True for a class (and metaclass, e.g. traitlets') of the kernel's own libraries: safe to read directly."""
    meta = type(cls)
    return (type.__dict__["__module__"].__get__(cls).startswith(LIBRARIES)
            and (meta is type or type.__dict__["__module__"].__get__(meta).startswith(LIBRARIES)))


def _library_wrapper(new, old, category) -> bool:
    """True when ``new`` is a library's ``functools.wraps`` wrapper around ``old``."""
    return (type(new) is types.FunctionType and new.__dict__.get("__wrapped__") is old
            and category(new.__code__.co_filename) == LIBRARY)


FUNCTIONS = (types.FunctionType, types.MethodType, types.BuiltinFunctionType, partial)


class Hooks:
    """What decides how a cell is run and shown, saved before the first cell and put back before the course's cells.

    IPython's input and AST transformers, its custom exception handler, the functions set on the shell, the output
    streams and the display hooks (instance attributes), ``sys.stdout`` and ``sys.stderr``, and the builtins. Student
    code that changed them (to rewrite a check cell, swallow its error or print a pass line) loses the change before
    the course's next cell; the audit has already reported it. Both ``save`` and ``restore`` run between cells,
    outside IPython's own traps for builtins and display hooks.
    """

    def __init__(self, shell) -> None:
        self.shell = shell
        self.saved: dict = {}

    def _objects(self) -> list:
        return [self.shell, self.shell.displayhook, self.shell.display_pub, sys.stdout, sys.stderr]

    def save(self) -> None:
        """Remember the current state (called before the first cell)."""
        shell, manager = self.shell, self.shell.input_transformer_manager
        self.saved = {
            "lists": [(target, list(target)) for target in (shell.input_transformers_post, manager.cleanup_transforms,
                                                            manager.line_transforms, shell.ast_transformers)],
            "custom": (shell.custom_exceptions, shell.CustomTB),
            "sys": {name: getattr(sys, name) for name in ("stdout", "stderr")},
            "instances": [(obj, {key: value for key, value in object.__getattribute__(obj, "__dict__").items()
                                 if isinstance(value, FUNCTIONS)}) for obj in self._objects()],
            "builtins": dict(sys.modules["builtins"].__dict__),
        }

    def restore(self) -> None:
        """Put back what ``save`` remembered (lists in place, replaced functions, streams and builtins)."""
        if not self.saved:
            return
        for target, items in self.saved["lists"]:
            target[:] = items
        self.shell.custom_exceptions, self.shell.CustomTB = self.saved["custom"]
        for name, value in self.saved["sys"].items():
            setattr(sys, name, value)
        for obj, functions in self.saved["instances"]:
            namespace = object.__getattribute__(obj, "__dict__")
            for key in [key for key, value in namespace.items() if isinstance(value, FUNCTIONS)]:
                if key not in functions:
                    del namespace[key]
            namespace.update(functions)
        builtins = sys.modules["builtins"].__dict__
        for key, value in self.saved["builtins"].items():
            if builtins.get(key, MISSING) is not value and f"builtins.{key}" not in IGNORED:
                builtins[key] = value


def sequences(shell) -> dict:
    """Return ``label -> (rule, items)`` for the lists whose additions and removals count (hooks, finders)."""
    manager = shell.input_transformer_manager
    found = {"input transformers (post)": ("ipython", tuple(shell.input_transformers_post)),
             "input transformers (cleanup)": ("ipython", tuple(manager.cleanup_transforms)),
             "input transformers (line)": ("ipython", tuple(manager.line_transforms)),
             "AST transformers": ("ipython", tuple(shell.ast_transformers)),
             "the custom exception handler": ("ipython", tuple(shell.custom_exceptions)),
             "sys.meta_path": ("sys-modules", tuple(sys.meta_path)),
             "sys.path_hooks": ("sys-modules", tuple(sys.path_hooks))}
    found["sys.stdout and sys.stderr"] = ("print", (sys.stdout, sys.stderr))
    for event, callbacks in shell.events.callbacks.items():
        found[f"IPython {event} callbacks"] = ("ipython", tuple(callbacks))
    active = getattr(sys.modules.get("threading"), "_active", {})
    found["threads"] = ("process", tuple(active.values()) if type(active) is dict else ())
    return found


def describe(value, category) -> str:
    """Name an added or replacing object for a message: where it was defined, never its repr."""
    where = defined_where(value, category)
    kind = type(value)
    name = kind.__name__ if kind is not types.FunctionType else "function"
    if kind is types.FunctionType:
        name = f"function {value.__code__.co_name}"
    if where == "cell":
        return f"a {name} defined in a notebook cell"
    return f"a {name}" if where is None else f"a {name} from the {where}"


class Watch:
    """The audit's memory of the last state: ``diff`` reports what changed since and remembers the new state."""

    def __init__(self, shell, *, core: tuple, course: tuple, ours: tuple, category) -> None:
        self.shell, self.core, self.course, self.ours, self.category = shell, core, course, ours, category
        self.namespaces: dict = {}
        self.lists: dict = {}
        self.modules: dict = {}

    def diff(self) -> list:
        """Return ``[(rule, what)]`` for every change since the last call (the first call only remembers)."""
        found = []
        for name, module in list(self.modules.items()):
            if sys.modules.get(name) is not module and (name in self.core or name.startswith(self.course)):
                found.append(("sys-modules", f"replaces or removes sys.modules[{name!r}]"))
        self.modules = {name: module for name, module in sys.modules.items()
                        if type(name) is str and (name in self.core or name.startswith(self.course))}
        for label, rule, strict, added, namespace in watched(self.shell, self.core, self.course):
            found += self._compare(label, rule, strict, added, namespace)
        for label, (rule, items) in sequences(self.shell).items():
            found += self._compare_list(label, rule, items)
        return found

    def _compare(self, label: str, rule: str, strict: bool, added: str, namespace: dict) -> list:
        before = self.namespaces.get(label)
        if before is None:   # first sight: remember, report nothing
            self.namespaces[label] = callables(namespace)
            return []
        found, changed = [], {}
        for key, old in before.items():   # only the remembered entries: cheap for a thousand modules
            new = namespace.get(key, MISSING)
            if new is old:
                continue
            changed[key] = new
            if f"{label}.{key}" in IGNORED or _library_wrapper(new, old, self.category):
                continue   # (a library decorating its own function: torch wraps manual_seed when dynamo loads)
            if new is MISSING:
                if strict:
                    found.append((rule, f"deletes {label}.{key}"))
            elif strict or defined_where(new, self.category) == "cell":
                found.append((rule, f"replaces {label}.{key} with {describe(new, self.category)}"))
        for key, new in changed.items():
            if new is MISSING:
                del before[key]
            else:
                before[key] = new
        if added:
            now = callables(namespace)
            for key in now.keys() - before.keys():
                if added == "any" or defined_where(now[key], self.category) == "cell":
                    found.append((rule, f"adds {label}.{key}: {describe(now[key], self.category)}"))
                before[key] = now[key]
        return found

    def _compare_list(self, label: str, rule: str, items: tuple) -> list:
        before = self.lists.get(label)
        self.lists[label] = items
        if before is None:
            return []
        found = []
        for item in before:
            if not any(item is other for other in items):
                found.append(("audit-channel" if any(item is mine for mine in self.ours) else rule,
                              f"removes {describe(item, self.category)} from {label}"))
        for item in items:
            code = (getattr(item, "_target", None) or item) if label == "threads" else item
            if not any(item is other for other in before) and defined_where(code, self.category) != LIBRARY:
                what = describe(code, self.category)
                found.append((rule, f"starts a thread running {what}" if label == "threads"
                              else f"adds {what} to {label}"))
        return found
