"""The one place where the course's public repository and its current release are configured.

The README's "Open in Colab" badges, the notebooks' set-up cell (what it installs on Colab) and the Binder badge are
generated from or checked against these values (``python -m course_utils.authoring build``; the tests); change them
here and rebuild. ``RELEASE_TAG`` names a git tag of the repository and agrees with the version in pyproject.toml
(a test keeps the two in sync): bump both, rebuild, commit, then push the tag.
"""

GITHUB_REPOSITORY = "video-understanding-course/video-understanding-hands-on"
"""``owner/name`` of the course on GitHub."""

RELEASE_TAG = "v0.2.0"
"""The release that Colab installs and opens: ``"v"`` followed by pyproject.toml's ``[project] version``."""

REPOSITORY_URL = f"https://github.com/{GITHUB_REPOSITORY}"
INSTALL_URL = f"git+{REPOSITORY_URL}@{RELEASE_TAG}"
"""What ``pip install`` receives on Colab: the core package (no extras) at the release tag."""


def colab_url(notebook_path: str) -> str:
    """Return the Colab URL that opens ``notebook_path`` (relative to the repository root) at the release tag."""
    return f"https://colab.research.google.com/github/{GITHUB_REPOSITORY}/blob/{RELEASE_TAG}/{notebook_path}"


def binder_url(folder: str = "notebooks") -> str:
    """Return the Binder URL that builds the release and opens JupyterLab on ``folder``."""
    return f"https://mybinder.org/v2/gh/{GITHUB_REPOSITORY}/{RELEASE_TAG}?urlpath=lab/tree/{folder}"
