"""Command line: ``python -m course_utils.authoring {build,check,execute,import-script}`` (see ``--help``)."""

import sys

try:
    from course_utils.authoring.commands import main
except ModuleNotFoundError as error:  # the tool's own dependencies (nbformat, ...) are in the dev extra
    sys.exit(f"python -m course_utils.authoring needs {error.name!r}, which this Python lacks: run it with the "
             f"course's environment (.venv/bin/python), or install the test tools there with README command 2")

if __name__ == "__main__":
    sys.exit(main())
