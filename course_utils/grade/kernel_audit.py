"""The runtime audit inside the grading kernel: a PEP 578 audit hook, installed before any student code runs.

The grader's IPython start-up file execs this file (and ``kernel_watch``) into a private namespace and calls
``install(config)``. From then on the hook (``sys.addaudithook``: it cannot be removed) sees sensitive events and
writes one JSON line per finding to a socket the grader opened before the kernel started (``config["fd"]``):

* frames, code objects and the garbage collector (``sys._getframe``, ``__code__``, ``tb_frame``, ``gc.get_referrers``,
  ``sys.settrace``...), ``ctypes``, code built at run time (``exec``, ``compile``), imports of the machinery
  (``importlib``, ``inspect``, ``gc``, ``ctypes``, ``IPython``, the checker...), processes and signals
  (``subprocess``, ``os.system``, ``os.fork``, ``os.exec*``, ``os.spawn*``, ``os.kill``...), sockets, and files
  opened outside the scratch folder and the Python installation (the course's ``solutions/``, the grader's files);
* after each cell, what changed without an event (``kernel_watch``): modules patched, IPython hooks added.

Each finding names the cell it happened in and, when the code is a notebook cell's, its line: the hook walks the
stack to the first frame that is not the standard library, and to the innermost notebook cell. Frame-level events
count only when the cell's own code (or ``inspect``, ``ctypes``...) raised them, so a namedtuple or a dataclass in an
answer is not reported. The channel carries a sequence number; a heartbeat after every cell and an end record with
the run's nonce (raised by the grader's last cell) show that nobody closed or silenced it on the way.

Everything the hook needs is captured in its closure when it is installed, so rebinding ``os.write``, ``json`` or
any module attribute later changes nothing; the IPython callbacks it registers are ``functools.partial`` objects of
``sys.audit``, which hold nothing to tamper with.
"""

from __future__ import annotations

EVENTS = {
    # event: (how it is attributed, rule, standard-library files that only pass the call on)
    "sys._getframe": ("immediate", "introspection", ("inspect.py", "traceback.py")),
    "sys._current_frames": ("any", "introspection", ()),
    "object.__getattr__": ("immediate", "introspection", ("inspect.py",)),
    "object.__setattr__": ("immediate", "introspection", ()),
    "object.__delattr__": ("immediate", "introspection", ()),
    "code.__new__": ("immediate", "introspection", ()),
    "function.__new__": ("immediate", "introspection", ()),
    "marshal.loads": ("immediate", "dynamic", ()),
    "exec": ("immediate", "dynamic", ("runpy.py", "code.py", "codeop.py")),
    "compile": ("immediate", "dynamic", ("runpy.py", "code.py", "codeop.py")),
    "gc.get_objects": ("any", "introspection", ()), "gc.get_referrers": ("any", "introspection", ()),
    "gc.get_referents": ("any", "introspection", ()), "sys.settrace": ("any", "introspection", ()),
    "sys.setprofile": ("any", "introspection", ()), "sys.addaudithook": ("any", "introspection", ()),
    "subprocess.Popen": ("any", "process", ()), "os.system": ("any", "process", ()),
    "os.exec": ("any", "process", ()), "os.spawn": ("any", "process", ()), "os.posix_spawn": ("any", "process", ()),
    "os.fork": ("any", "process", ()), "os.forkpty": ("any", "process", ()), "pty.spawn": ("any", "process", ()),
    "os.kill": ("any", "process", ()), "os.killpg": ("any", "process", ()),
    "signal.pthread_kill": ("any", "process", ()),
    "socket.__new__": ("any", "network", ()), "socket.connect": ("any", "network", ()),
    "socket.bind": ("any", "network", ()), "socket.getaddrinfo": ("any", "network", ()),
    "open": ("file", "files", ()), "os.listdir": ("file", "files", ()), "os.scandir": ("file", "files", ()),
    "os.remove": ("file", "files", ()), "os.rename": ("file", "files", ()), "os.rmdir": ("file", "files", ()),
    "os.truncate": ("file", "files", ()), "os.chmod": ("file", "files", ()), "shutil.rmtree": ("file", "files", ()),
    "import": ("import", "", ()), "course.grader.import": ("import", "", ()),
}
CTYPES = ("ctypes.dlopen", "ctypes.dlsym", "ctypes.addressof", "ctypes.cdata", "ctypes.cdata/buffer",
          "ctypes.call_function", "ctypes.string_at", "ctypes.wstring_at", "ctypes.PyObj_FromPtr",
          "ctypes.seh_exception")
EVENTS.update({name: ("immediate", "ctypes", ("ctypes",)) for name in CTYPES})

IMPORTS = {"importlib": "dynamic", "runpy": "dynamic", "inspect": "introspection", "gc": "introspection",
           "ctypes": "ctypes", "_ctypes": "ctypes", "IPython": "ipython", "ipykernel": "ipython",
           "jupyter_client": "ipython", "zmq": "ipython", "nbval": "checker-import", "pytest": "checker-import",
           "_pytest": "checker-import", "subprocess": "process", "signal": "process", "multiprocessing": "process",
           "socket": "network", "builtins": "builtins", "marshal": "dynamic"}
"""Modules whose import by an answer is reported, with the rule; the checker's own modules are added at install."""

OPEN_WRAPPER = "_modified_open"
"""IPython's ``open`` in the user namespace: it only passes the call on to ``io.open``."""
WRITE_FLAGS = 0o1 | 0o2 | 0o100 | 0o1000 | 0o2000   # O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND
CAP = 400
"""Findings written per run at most (the rest is counted, so a flood cannot hide what matters)."""


IMPORTER = """
def __import__(name, globals=None, locals=None, fromlist=(), level=0, *, _original, _audit, _names, _type, _str):
    if level == 0 and _type(name) is _str and name.partition(".")[0] in _names:
        _audit("course.grader.import", name)
    return _original(name, globals, locals, fromlist, level)
"""
"""The grader's ``builtins.__import__``: CPython raises its ``import`` event only for modules not loaded yet, so
this wrapper reports every import of a watched name. It reads no global: all it uses sits in ``__kwdefaults__``,
and changing those raises an audit event of its own."""


def install(config: dict, watch: dict) -> None:
    """Install the audit hook and the cell callbacks (see the module docstring).

    Args:
        config: ``fd`` (the channel), path prefixes ``own`` (the scratch folders), ``python`` (the installation),
            ``read_ok``, ``write_ok``,
            ``protected`` (``[prefix, rule]``), ``course`` (the course's code) and ``grader`` (these files),
            module names ``core``, ``course_modules`` (prefixes) and ``checker``, and nbval code-cell numbers:
            ``order`` (the cells nbval runs, in order), ``exercise_cells``, ``reset_cells`` (before these, the
            hooks that could rewrite a cell or fake its output are put back as they were before the first cell:
            ``kernel_watch.Hooks``) and ``end_cell``.
        watch: the namespace of ``kernel_watch``.
    """
    import _json
    import _thread
    import builtins
    import functools
    import os
    import sys
    import sysconfig
    import tempfile

    from IPython import get_ipython

    shell = get_ipython()
    quote, write, getframe, ident, normpath = (_json.encode_basestring_ascii, os.write, sys._getframe,
                                               _thread.get_ident, os.path.normpath)
    audit, join, getpid, getppid, cwd = sys.audit, os.path.join, os.getpid, os.getppid, os.getcwd()
    fd, exercise_cells, end_cell = config["fd"], frozenset(config["exercise_cells"]), config["end_cell"]
    order, reset_cells = tuple(config["order"]), frozenset(config["reset_cells"])
    own, read_ok, write_ok = tuple(config["own"]), tuple(config["read_ok"]), tuple(config["write_ok"])
    python = tuple(config["python"])
    protected = tuple((prefix, rule) for prefix, rule in config["protected"])
    protected_prefixes = tuple(prefix for prefix, _ in protected)
    course, grader = tuple(config["course"]), tuple(config["grader"])
    stdlib = normpath(sysconfig.get_paths()["stdlib"]) + os.sep
    cell_prefix = join(tempfile.gettempdir(), f"ipykernel_{getpid()}") + os.sep
    imports = dict(IMPORTS, **{name: "checker-import" for name in config["checker"]})
    state = {"seq": 0, "index": -1, "cell": -1, "found": 0, "lost": 0, "errors": 0}
    busy, seen, cells, kinds, lock, kernel_pid = set(), set(), {}, {}, _thread.allocate_lock(), getpid()

    def send(body: str) -> None:
        if getpid() != kernel_pid:   # a forked child stays silent: the fork itself was reported
            return
        with lock:
            line = f'{{"seq": {state["seq"]}, {body}}}\n'
            state["seq"] += 1
            try:
                write(fd, line.encode("utf-8", "replace"))
            except OSError:
                state["lost"] += 1

    def finding(cell: int, rule: str, what: str, line) -> None:
        key = (cell, rule, what, line)
        if key in seen:
            return
        seen.add(key)
        state["found"] += 1
        if state["found"] > CAP:
            if state["found"] == CAP + 1:
                send('"kind": "overflow"')
            return
        number = "null" if line is None else str(line)
        send(f'"kind": "event", "cell": {cell}, "rule": {quote(rule)}, "what": {quote(what[:300])}, "line": {number}')

    def category(filename) -> str:
        if type(filename) is not str:
            return "machinery"
        if filename in cells or filename.startswith(cell_prefix) or filename.startswith("<ipython-input-"):
            return "cell"
        kind = kinds.get(filename)
        if kind is None:
            if filename.startswith("<frozen importlib"):
                kind = "import"   # the import system: it passes file and import events on, and nothing else
            elif filename.startswith("<") or filename.startswith(grader):
                kind = "machinery"
            elif filename.startswith(stdlib) and "-packages" + os.sep not in filename:
                kind = "stdlib"
            elif filename.startswith(course):
                kind = "course"
            else:
                kind = "library"
            kinds[filename] = kind
        return kind

    def walk(frame, transparent, early=False):
        """Return (the innermost notebook-cell frame or None, the kind of code that raised the event); ``early``:
        stop at the first frame that is not a cell's when it is not transparent (only the cell's own code counts)."""
        culprit = None
        while frame is not None:
            name = frame.f_code.co_filename
            kind = category(name)
            if kind == "cell":
                return frame, culprit or "cell"
            if culprit is None and kind != "machinery" and not (kind in ("stdlib", "import") and (
                    transparent is True or name.endswith(transparent))) and frame.f_code.co_name != OPEN_WRAPPER:
                culprit = kind
                if early:
                    return None, culprit
            frame = frame.f_back
        return None, culprit

    def report(frame, mode: str, rule: str, what: str, transparent=()) -> None:
        found, culprit = walk(frame, transparent, early=mode != "any")
        if found is None:
            return
        cell = cells.get(found.f_code.co_filename, state["cell"])
        if cell in exercise_cells and (culprit == "cell" or mode == "any"):
            finding(cell, rule, what, found.f_lineno)
        elif mode == "any" and culprit in ("cell", "course"):
            finding(cell, rule, what, None)

    def path_of(value):
        if type(value) is bytes:
            value = value.decode("utf-8", "replace")
        if type(value) is not str:
            return None
        return normpath(value if value.startswith("/") else join(cwd, value))

    def file_event(frame, event: str, args) -> None:
        path = path_of(args[0]) if args else None
        if path is not None:
            path += "/"   # so that a folder matches its own prefix ("/x/work" is in "/x/work/")
            if path.startswith(own):
                return
        else:
            if event == "open" and args and type(args[0]) is int and args[0] > 2:
                report(frame, "immediate", "files", "opens a file descriptor by its number", True)
            return
        if event == "open":
            mode, flags = (args + (None, None))[1:3]
            writing = (type(mode) is str and any(c in mode for c in "wax+")) or (
                type(flags) is int and flags & WRITE_FLAGS != 0)
        else:
            writing = event not in ("os.listdir", "os.scandir")
        if path.startswith(protected_prefixes) and not path.startswith(course) and not path.startswith(python):
            rule = next(rule for prefix, rule in protected if path.startswith(prefix))
            report(frame, "any", rule, f"{'writes' if writing else 'reads'} {path[:-1]}", True)
        elif writing and not path.startswith(write_ok):
            report(frame, "immediate", "files", f"writes {path[:-1]} ({event})", True)
        elif not writing and not path.startswith(read_ok):
            report(frame, "immediate", "files", f"reads {path[:-1]} ({event})", True)

    def describe(event: str, args) -> str:
        if event in ("object.__getattr__", "object.__setattr__", "object.__delattr__"):
            verb = {"object.__getattr__": "reads", "object.__setattr__": "sets"}.get(event, "deletes")
            return f"{verb} .{args[1]}" if len(args) > 1 and type(args[1]) is str else f"calls {event}"
        if event in ("os.kill", "os.killpg", "signal.pthread_kill") and len(args) > 1:
            whom = "itself" if args[0] == getpid() else "its parent" if args[0] == getppid() else "a process"
            return f"sends signal {args[1]} to {whom} ({event})"
        if event in ("subprocess.Popen", "os.system", "os.exec", "os.spawn", "os.posix_spawn") and args:
            command = args[0] if type(args[0]) is str else ""
            return f"starts a process ({event} {command[:60]})" if command else f"starts a process ({event})"
        return f"calls {event}"

    def between_cells(frame) -> bool:
        """A pre/post-run event is genuine when IPython raised it between cells, with no notebook cell running."""
        found, _ = walk(frame, True)
        return found is None and frame is not None and frame.f_code.co_filename.endswith("events.py")

    def grader_event(event: str, frame, args) -> None:
        if event in ("course.grader.pre_run", "course.grader.post_run") and not between_cells(frame):
            finding(state["cell"], "audit-channel", "raises the grader's cell event itself", None)
        elif event == "course.grader.pre_run":
            state["index"] += 1
            index = state["index"]
            state["cell"] = order[index] if index < len(order) else 100_000 + index
            if index == 0:
                watcher.diff()   # remember the state the first cell starts from
                hooks.save()
        elif event == "course.grader.post_run":
            for rule, what in watcher.diff():
                finding(state["cell"], rule, what, None)
            upcoming = state["index"] + 1
            if upcoming < len(order) and order[upcoming] in reset_cells:
                hooks.restore()   # the next cell is the course's and must run as written (ipykernel transforms
                watcher.diff()    # a cell before its pre-run event): undo what could rewrite it or fake its output
            send(f'"kind": "cell", "cell": {state["cell"]}')
        else:
            found, _ = walk(frame, ())
            if found is frame and state["cell"] == end_cell and args and type(args[0]) is str:
                send(f'"kind": "end", "cell": {state["cell"]}, "nonce": {quote(args[0])}, "lost": {state["lost"]}, '
                     f'"errors": {state["errors"]}, "error": {quote(state.get("error", ""))}')
            else:
                finding(state["cell"], "audit-channel", "raises the grader's end event itself", None)

    def import_rule(name: str) -> str | None:
        while name:
            if name in imports:
                return imports[name]
            name = name.rpartition(".")[0]
        return None

    def handle(event: str, args) -> None:
        frame = getframe(2)
        if event == "compile" and len(args) > 1 and type(args[1]) is str and args[1].startswith(cell_prefix):
            cells.setdefault(args[1], state["cell"])
        if event in ("course.grader.pre_run", "course.grader.post_run", "course.grader.end"):
            grader_event(event, frame, args)
            return
        mode, rule, transparent = EVENTS[event]
        if mode == "file":
            file_event(frame, event, args)
        elif mode == "import":
            name = args[0] if args and type(args[0]) is str else ""
            rule = import_rule(name)
            if rule:
                report(frame, "immediate", rule, f"imports {name}", True)
        elif not (event == "os.kill" and len(args) > 1 and args[0] == getpid() and args[1] == 2):
            report(frame, mode, rule, describe(event, args), transparent)   # (the kernel's own interrupt is not)

    def hook(event, args) -> None:
        if event not in EVENTS and event[:14] != "course.grader.":
            return
        thread = ident()
        if thread in busy:
            return
        busy.add(thread)
        try:
            handle(event, args)
        except BaseException as error:   # the audit must never break the student's code
            state["errors"] += 1
            state["error"] = state.get("error") or f"{event}: {type(error).__name__}: {error}"[:200]
        finally:
            busy.discard(thread)

    ours = (functools.partial(audit, "course.grader.pre_run"), functools.partial(audit, "course.grader.post_run"))
    watcher = watch["Watch"](shell, core=tuple(config["core"]), course=tuple(config["course_modules"]), ours=ours,
                             category=category)
    hooks = watch["Hooks"](shell)
    scope = {"__builtins__": builtins}
    exec(compile(IMPORTER, "<course-grader-import>", "exec"), scope)
    importer = scope.pop("__import__")
    importer.__kwdefaults__ = {"_original": builtins.__import__, "_audit": audit, "_type": type, "_str": str,
                               "_names": frozenset(name.partition(".")[0] for name in imports)}
    sys.addaudithook(hook)
    builtins.__import__ = importer
    shell.events.register("pre_run_cell", ours[0])
    shell.events.register("post_run_cell", ours[1])
    send('"kind": "start"')
