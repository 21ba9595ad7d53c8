"""The one domain error. The CLI turns it into a single line on stderr and exit code 2."""


class InputError(Exception):
    """Bad input from the user: a reference, a file, an option. Raised before anything is written."""
