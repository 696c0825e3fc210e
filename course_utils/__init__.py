"""course_utils: the shared package of the hands-on video understanding course."""

from course_utils.checks import CheckFailed, check
from course_utils.device import get_device, seed_everything

__all__ = ["CheckFailed", "check", "get_device", "seed_everything"]
