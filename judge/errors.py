"""The one domain error. The CLI turns it into a single line on stderr and exit code 2."""


class InputError(Exception):
    """Bad input: a reference, a file, an option. Raised before anything is written."""


class ServiceError(Exception):
    """A model server failed after all retries. Nothing of the failed calls was cached."""


def first_line(err: BaseException) -> str:
    """The one line of a third-party exception a user needs (its type when it says nothing)."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
