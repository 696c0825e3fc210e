"""Drive one notebook in JupyterLab through Playwright: open, Run All, wait for idle, read the outputs, screenshot.

The server runs with ``expose_app_in_browser``, so ``window.jupyterapp`` gives the notebook's model (outputs as
nbformat JSON, which tells an error from a warning; both render alike in the page) and the command registry (the
"Run All Cells" command that the Run menu calls).
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # playwright is imported only when the suite runs
    from playwright.sync_api import Page

# The notebook widget whose document is PATH (the only notebook open in the page).
_FIND = "Array.from(window.jupyterapp.shell.widgets('main')).find(w => w.context && w.context.path === PATH)"

_CELLS_JS = """(PATH) => {
  const panel = __PLACEHOLDER__;
  return panel.content.widgets.map((cell, index) => {
    const model = cell.model;
    const outputs = model.type === 'code' ? model.outputs.toJSON() : [];
    const text = t => Array.isArray(t) ? t.join('') : (t || '');
    return {
      index, type: model.type,
      execution_count: model.type === 'code' ? model.executionCount : null,
      prompt: (cell.node.querySelector('.jp-InputPrompt') || {textContent: ''}).textContent.trim(),
      source: model.sharedModel.getSource(),
      errors: outputs.filter(o => o.output_type === 'error').map(o => `${o.ename}: ${o.evalue}`),
      stderr: outputs.filter(o => o.output_type === 'stream' && o.name === 'stderr').map(o => text(o.text)),
      widget_outputs: outputs.filter(o => o.data && o.data['application/vnd.jupyter.widget-view+json']).length,
    };
  });
}""".replace("__PLACEHOLDER__", _FIND)


# For screenshots only: no selection marks, cell toolbars or scroll shadows (they would show at every seam).
_SCREENSHOT_CSS = """
.jp-Notebook .jp-Cell .jp-Collapser { background: transparent !important; }
.jp-Notebook .jp-Cell.jp-mod-selected, .jp-Notebook .jp-Cell.jp-mod-active { background: transparent !important; }
.jp-Notebook .jp-Cell { border-color: transparent !important; }
.jp-cell-toolbar { display: none !important; }
* { box-shadow: none !important; }
"""


@dataclass(frozen=True)
class CellReport:
    """What one cell shows after running."""

    index: int
    type: str
    execution_count: int | None
    prompt: str
    source: str
    errors: tuple[str, ...]
    stderr: tuple[str, ...]
    widget_outputs: int

    def where(self) -> str:
        """``cell 7 [12]: first line of source`` for messages."""
        first = self.source.strip().splitlines()[0] if self.source.strip() else ""
        return f"cell {self.index} {self.prompt or '[ ]:'} {first[:70]}"


class LabNotebook:
    """A notebook open in its own page of a running JupyterLab."""

    def __init__(self, page: Page, *, base_url: str, token: str, path: str) -> None:
        self.page = page
        self.base_url = base_url
        self.token = token
        self.path = path
        self.run_seconds: float | None = None
        self.run_all_succeeded: bool | None = None
        self.failure: str | None = None           # why opening or running did not finish (set by the caller)
        self.phases: dict[str, float] = {}        # seconds per phase, for the timing summary

    def _eval(self, body: str, arg: object = None) -> object:
        """Evaluate ``(PATH, arg) => body`` in the page, with the notebook widget available as ``panel``."""
        return self.page.evaluate(f"([PATH, arg]) => {{ const panel = {_FIND}; {body} }}", [self.path, arg])

    def open(self, *, timeout: float = 120.0) -> None:
        """Load JupyterLab on this notebook (full width) and wait until its kernel is idle."""
        self.page.goto(f"{self.base_url}/lab/tree/{self.path}?reset&token={self.token}")
        self.page.wait_for_function(
            f"(PATH) => window.jupyterapp && (() => {{ const p = {_FIND}; return p && p.context.isReady && "
            "p.sessionContext.session && p.sessionContext.session.kernel && "
            "p.sessionContext.session.kernel.status === 'idle'; })()",
            arg=self.path, timeout=timeout * 1000)
        self._eval("window.jupyterapp.shell.collapseLeft(); window.jupyterapp.shell.collapseRight(); "
                   "window.jupyterapp.shell.activateById(panel.id);")

    def run_all(self, *, timeout: float) -> None:
        """Run All Cells (the Run menu's command) and wait until the kernel is idle with no cell queued."""
        start = time.monotonic()
        self._eval("window.__courseRunAll = undefined; window.jupyterapp.shell.activateById(panel.id); "
                   "window.jupyterapp.commands.execute('notebook:run-all-cells')"
                   ".then(ok => { window.__courseRunAll = ok; }, e => { window.__courseRunAll = String(e); });")
        self.page.wait_for_function("() => window.__courseRunAll !== undefined", timeout=timeout * 1000)
        self.wait_idle(timeout=max(5.0, timeout - (time.monotonic() - start)))
        self.run_seconds = time.monotonic() - start
        self.run_all_succeeded = self.page.evaluate("() => window.__courseRunAll") is True

    def wait_idle(self, *, timeout: float, settle: float = 0.5) -> None:
        """Wait until the kernel is idle and no cell shows ``[*]``, twice ``settle`` seconds apart."""
        check = (f"(PATH) => {{ const p = {_FIND}; const k = p.sessionContext.session.kernel; "
                 "return k.status === 'idle' && !Array.from(p.node.querySelectorAll('.jp-InputPrompt'))"
                 ".some(e => e.textContent.includes('*')); }")
        deadline = time.monotonic() + timeout
        while True:
            self.page.wait_for_function(check, arg=self.path,
                                        timeout=max(1.0, deadline - time.monotonic()) * 1000)
            self.page.wait_for_timeout(settle * 1000)
            if self.page.evaluate(check, self.path):
                return

    def cells(self) -> list[CellReport]:
        """What every cell shows now (read from the notebook's model)."""
        return [CellReport(**{**c, "errors": tuple(c["errors"]), "stderr": tuple(c["stderr"])})
                for c in self.page.evaluate(_CELLS_JS, self.path)]

    def cell_locator(self, index: int):
        """The page element of cell ``index`` (cells are tagged with ``data-course-cell`` for this)."""
        self._eval("panel.content.widgets.forEach((cell, i) => { cell.node.dataset.courseCell = String(i); });")
        return self.page.locator(f"[id={json.dumps(self._panel_id())}] [data-course-cell='{index}']")

    def _panel_id(self) -> str:
        return self._eval("return panel.id;")

    def screenshot(self, path: Path, *, width: int = 1100, max_height: int = 30000) -> int:
        """Save the whole notebook as one PNG; return its height in pixels.

        The viewport is made as tall as the notebook, so every cell is rendered (and typeset) at its final place
        and one capture holds it all; a notebook taller than ``max_height`` is scrolled through and stitched.
        The page gets its viewport size back afterwards.
        """
        from PIL import Image, ImageChops

        before = self.page.viewport_size
        self.page.add_style_tag(content=_SCREENSHOT_CSS)
        scroller = self.page.locator(f"[id={json.dumps(self._panel_id())}] .jp-WindowedPanel-outer").first
        height = before["height"]
        for _ in range(8):                 # late layout (typesetting, images) can grow the notebook: measure again
            self.page.set_viewport_size({"width": width, "height": height})
            self.page.wait_for_timeout(400)
            hidden = scroller.evaluate("e => { e.scrollTop = 0; return e.scrollHeight - e.clientHeight; }")
            if hidden <= 0 or height >= max_height:
                break
            height = min(max_height, height + hidden)
        box = scroller.bounding_box()
        total = scroller.evaluate("e => e.scrollHeight")
        pieces, offset = [], 0
        while True:
            top = scroller.evaluate("(e, y) => { e.scrollTop = y; return e.scrollTop; }", offset)
            self.page.wait_for_timeout(150)
            pieces.append((top, Image.open(io.BytesIO(self.page.screenshot(clip=box))).convert("RGB")))
            if top + box["height"] >= total:
                break
            offset = top + int(box["height"])
        scale = pieces[0][1].height / box["height"]
        sheet = Image.new("RGB", (pieces[0][1].width, int(round(total * scale))), "white")
        for top, piece in pieces:
            sheet.paste(piece, (0, int(round(top * scale))))
        content = ImageChops.difference(sheet, Image.new("RGB", sheet.size, "white")).getbbox()
        if content is not None:                           # drop blank space below the last cell
            sheet = sheet.crop((0, 0, sheet.width, min(sheet.height, content[3] + 24)))
        path.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(path)
        scroller.evaluate("e => { e.scrollTop = 0; }")
        self.page.set_viewport_size(before)
        return sheet.height
