"""The one place where the course's public repository is configured.

The README's "Open in Colab" badges and the notebooks' Colab set-up cell are generated from these values by
``python -m course_utils.authoring build``; change them here and rebuild.
"""

GITHUB_REPOSITORY = "video-understanding-course/video-understanding-hands-on"
"""``owner/name`` of the course on GitHub."""

GITHUB_BRANCH = "main"

REPOSITORY_URL = f"https://github.com/{GITHUB_REPOSITORY}"
INSTALL_URL = f"git+{REPOSITORY_URL}@{GITHUB_BRANCH}"
"""What ``pip install`` receives on Colab."""


def colab_url(notebook_path: str) -> str:
    """Return the Colab URL that opens ``notebook_path`` (relative to the repository root)."""
    return f"https://colab.research.google.com/github/{GITHUB_REPOSITORY}/blob/{GITHUB_BRANCH}/{notebook_path}"
