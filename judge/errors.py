"""The two domain errors. The CLI turns each into a single line on stderr: InputError exits 2 (the
user can fix the input), ServiceError exits 1 (a server or the hub did not answer)."""


class InputError(Exception):
    """Bad input: a reference, a file, an option. Raised before anything is written."""


class ServiceError(Exception):
    """A model server or the hub could not be reached or failed after all retries. Nothing of the
    failed calls was cached."""


def first_line(err: BaseException) -> str:
    """The one line of a third-party exception a user needs (its type when it says nothing)."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def hub_failure(err: BaseException, message: str) -> InputError | ServiceError:
    """The error to raise for a failed hub call: a ServiceError when the hub could not be reached
    (offline mode, no network, a timeout, a 5xx), an InputError when it answered that what was
    asked for does not exist or may not be had (a wrong name, a gated repo)."""
    from huggingface_hub import errors as hub

    reason = f"{message}: {first_line(err)}"
    refused = hub.RepositoryNotFoundError | hub.RevisionNotFoundError | hub.GatedRepoError
    if isinstance(err, refused):
        return InputError(reason)
    if isinstance(err, hub.LocalEntryNotFoundError | hub.OfflineModeIsEnabled | ConnectionError
                  | TimeoutError):
        return ServiceError(reason)
    status = getattr(getattr(err, "response", None), "status_code", None)
    if isinstance(err, hub.HfHubHTTPError) and (status is None or status >= 500):
        return ServiceError(reason)
    try:
        import httpx

        if isinstance(err, httpx.TransportError):
            return ServiceError(reason)
    except ImportError:
        pass
    return InputError(reason)
