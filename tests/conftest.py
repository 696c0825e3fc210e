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


import pytest  # noqa: E402  (after the environment is set)
import torch  # noqa: E402


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Run each test's torch work on one thread: the tests' tensors are tiny, and two xdist workers sharing two cores
    make multi-threaded small operations far slower. The previous setting is restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
