"""Command line: ``python -m course_utils.authoring {build,check,execute,import-script}`` (see ``--help``)."""

import sys

from course_utils.authoring.commands import main

if __name__ == "__main__":
    sys.exit(main())
