"""Shared test settings: a non-interactive matplotlib backend for every test process."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
