"""The one domain error. The CLI turns it into a single line on stderr and exit code 2."""


class InputError(Exception):
    """Bad input: a reference, a file, an option. Raised before anything is written."""


class ServiceError(Exception):
    """A model server failed after all retries. Nothing of the failed calls was cached."""
