"""Find the interactive ipywidgets in a cell's outputs and prove, in the page, that their controls work.

A widget is found by the DOM, so new notebooks are covered without edits: a top-level widget view is a
``.jupyter-widgets`` element that is the direct child of a cell output; it is interactive when it holds a control
(slider, dropdown, toggle buttons, checkbox or button). What a widget *shows* is every ``img`` source and the text
of everything that is not a control or a slider readout; moving a control must change it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # playwright is imported only when the suite runs
    from playwright.sync_api import Locator

WIDGET_ROOT = ".jp-Cell-outputArea > .jp-OutputArea-child > .jp-OutputArea-output > .jupyter-widgets"
# One selector per kind of control; ipywidgets 8 sliders use noUiSlider, ipywidgets 7 sliders jQuery UI.
CONTROLS = {
    "slider": ".widget-slider .noUi-handle, .widget-slider .ui-slider-handle",
    "dropdown": ".widget-dropdown select",
    "toggle buttons": ".widget-toggle-buttons",
    "checkbox": ".widget-checkbox input[type=checkbox]",
    "button": "button.widget-button",
}
_CONTROL_PARTS = (".widget-readout, .widget-slider, .widget-dropdown, .widget-toggle-buttons, "
                  ".widget-checkbox, .widget-button")

_SHOWN_JS = """(root) => {
  const images = Array.from(root.querySelectorAll('img')).map(i => i.getAttribute('src') || '');
  const clone = root.cloneNode(true);
  clone.querySelectorAll('__PLACEHOLDER__').forEach(e => e.remove());
  return {images, text: clone.textContent.replace(/\\s+/g, ' ').trim()};
}""".replace("__PLACEHOLDER__", _CONTROL_PARTS)

_PROBLEMS_JS = """(root) => {
  const texts = [];
  root.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]').forEach(e => texts.push(e.textContent));
  const all = root.textContent;
  for (const bad of ['Error displaying widget', 'Loading widget...', 'Failed to load model class']) {
    if (all.includes(bad)) texts.push(bad);
  }
  return texts;
}"""


@dataclass(frozen=True)
class Shown:
    """A digest of what a widget shows: its images and its non-control text."""

    images: tuple[str, ...]
    text: str

    def summary(self) -> str:
        """Short description for failure messages."""
        digests = [hashlib.sha1(src.encode()).hexdigest()[:8] for src in self.images]
        return f"{len(self.images)} image(s) {digests}, text {self.text[:120]!r}"


def widget_roots(cell: Locator) -> list[Locator]:
    """Every top-level widget view in the outputs of ``cell``."""
    roots = cell.locator(WIDGET_ROOT)
    return [roots.nth(i) for i in range(roots.count())]


def controls(root: Locator) -> list[tuple[str, Locator]]:
    """The controls of a widget view as ``(kind, locator)`` pairs, in page order within each kind."""
    found = []
    for kind, selector in CONTROLS.items():
        matches = root.locator(selector)
        found += [(kind, matches.nth(i)) for i in range(matches.count())]
    return found


def shown(root: Locator) -> Shown:
    """What the widget shows now."""
    data = root.evaluate(_SHOWN_JS)
    return Shown(tuple(data["images"]), data["text"])


def problems(root: Locator) -> list[str]:
    """Error/warning text and widget-manager failures displayed inside the widget."""
    return root.evaluate(_PROBLEMS_JS)


def describe(kind: str, control: Locator) -> str:
    """``slider 'num_segments'`` and the like, for messages."""
    label = control.evaluate(
        "e => { const w = e.closest('.widget-inline-hbox, .widget-toggle-buttons, .jupyter-widgets');"
        " const l = w && w.querySelector('.widget-label'); return l ? l.textContent.trim() : ''; }")
    return f"{kind} {label!r}" if label else kind


def operate(kind: str, control: Locator) -> tuple[str, Callable[[], None]]:
    """Move ``control`` one step the way a user would; return what was done and how to move it back."""
    if kind == "slider":
        now = float(control.get_attribute("aria-valuenow") or 0)
        top = float(control.get_attribute("aria-valuemax") or 0)
        key, back = ("ArrowLeft", "ArrowRight") if now >= top else ("ArrowRight", "ArrowLeft")
        control.focus()
        control.press(key)
        return (f"pressed {key} on the handle ({now:g} -> {control.get_attribute('aria-valuenow')})",
                lambda: (control.focus(), control.press(back)))
    if kind == "dropdown":
        index = control.evaluate("e => e.selectedIndex")
        if control.evaluate("e => e.options.length") < 2:
            raise AssertionError("the dropdown has fewer than two options")
        target = 1 if index == 0 else index - 1
        control.select_option(index=target)
        return f"selected option {target} (was {index})", lambda: control.select_option(index=index)
    if kind == "toggle buttons":
        active = control.locator("button.mod-active")
        inactive = control.locator("button:not(.mod-active)")
        if inactive.count() == 0:
            raise AssertionError("the toggle buttons have no inactive button to press")
        was = active.first.text_content() if active.count() else None
        name = inactive.first.text_content()
        inactive.first.click()
        undo = (lambda: control.locator("button", has_text=was).first.click()) if was else (lambda: None)
        return f"clicked {name!r}", undo
    control.click()                                                  # checkbox, button
    return "clicked", (lambda: control.click()) if kind == "checkbox" else (lambda: None)


def wait_for_change(root: Locator, before: Shown, *, timeout: float) -> Shown:
    """Poll until the widget shows something other than ``before``; return what it shows then (maybe unchanged)."""
    deadline = time.monotonic() + timeout
    while True:
        after = shown(root)
        if after != before or time.monotonic() > deadline:
            return after
        time.sleep(0.25)
