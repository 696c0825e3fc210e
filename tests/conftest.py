"""Shared test settings, applied before any test or notebook kernel starts.

* a non-interactive matplotlib backend for every test process;
* one share of the cores per pytest-xdist worker for the kernels that nbval and nbclient start (they inherit this
  environment): two workers, each running a notebook whose torch uses every core, make small operations many times
  slower on a 2-core machine.
"""

import os

os.environ.setdefault("MPLBACKEND", "Agg")
_threads = str(max(1, (os.cpu_count() or 2) // 2))
os.environ.setdefault("OMP_NUM_THREADS", _threads)
os.environ.setdefault("MKL_NUM_THREADS", _threads)
