"""
RL Zoo's Hugging Face Hub scripts (``push_to_hub``, ``load_from_hub``) for ``cartdqn``: a clear error where no token
is set or the Hub cannot be reached, and the one place where a downloaded run is checked before anything opens it.
"""

import importlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from huggingface_sb3 import EnvironmentName

from sb3_cartdqn.zoo import adapters
from sb3_cartdqn.zoo.run_folder_checks import check_model_zip, check_run_folder
from sb3_cartdqn.zoo.run_folder_paths import parse_run_flags, run_folder

#: Where a Hugging Face token comes from
TOKEN_HINT = (
    "Log in with `hf auth login` (a token with write access, from https://huggingface.co/settings/tokens), "
    "or set HF_TOKEN=<token>."
)


def unreachable_errors() -> tuple[type[BaseException], ...]:
    """
    :return: the exceptions that mean the Hub could not be reached: no network, no DNS, a timeout, ``HF_HUB_OFFLINE``
        (``huggingface_hub`` raises its own, ``requests``' or its HTTP client's)
    """
    from huggingface_hub.errors import LocalEntryNotFoundError

    errors: list[type[BaseException]] = [ConnectionError, TimeoutError, LocalEntryNotFoundError]
    for module_name, names in (("requests", ("ConnectionError", "Timeout")), ("httpx", ("TransportError",)),
                               ("httpx2", ("TransportError",))):  # fmt: skip
        try:
            module = importlib.import_module(module_name if module_name != "requests" else "requests.exceptions")
        except ImportError:
            continue
        errors += [getattr(module, name) for name in names if hasattr(module, name)]
    return tuple(errors)


@contextmanager
def hub_token_required(argv: Sequence[str] = ()) -> Iterator[None]:
    """
    Stop before anything is evaluated or recorded when no Hugging Face token is set (``push_to_hub`` needs one).

    :param argv: the script's arguments (unused)
    """
    from huggingface_hub import get_token

    if get_token() is None:
        raise SystemExit(f"push_to_hub uploads to the Hugging Face Hub, and no token is set. {TOKEN_HINT}")
    yield


@contextmanager
def model_card_metadata_available(argv: Sequence[str] = ()) -> Iterator[None]:
    """
    RL Zoo's ``push_to_hub`` imports ``generate_metadata`` from ``huggingface_sb3.push_to_hub``; the
    ``sb3-team-hf-integration`` 3.2 release of that module (the only one rl-zoo3 2.9.2's requirement allows) renamed it
    ``_generate_metadata`` and returns a ``ModelCardData`` instead of the dict RL Zoo writes into the model card.
    Within the block, the old name is there, as the old function (the adapter
    :func:`sb3_cartdqn.zoo.adapters.generate_metadata`). RL Zoo's and huggingface_sb3's files stay as they are.

    :param argv: the script's arguments (unused)
    """
    with adapters.generate_metadata():
        yield


#: Files of an RL Zoo run on the Hub that ``load_from_hub`` downloads only where they exist
OPTIONAL_RUN_FILES = ("vec_normalize.pkl",)


@contextmanager
def optional_files_may_be_missing(argv: Sequence[str] = ()) -> Iterator[None]:
    """
    RL Zoo's ``load_from_hub`` skips a run's ``vec_normalize.pkl`` when the download raises ``requests``'
    ``HTTPError``; huggingface_hub 1.0 and later raise their own ``EntryNotFoundError`` (not a ``requests`` error), so
    every run saved without VecNormalize would stop the download. Within the block, that error for an optional file
    (:data:`OPTIONAL_RUN_FILES`) is raised as the ``HTTPError`` RL Zoo expects (the adapter
    :func:`sb3_cartdqn.zoo.adapters.load_from_hub`); a missing model or config, and a Hub that cannot be reached,
    still stop it. RL Zoo's and huggingface_sb3's files stay as they are.

    :param argv: the script's arguments (unused)
    """
    with adapters.load_from_hub(OPTIONAL_RUN_FILES):
        yield


@contextmanager
def hub_errors_explained(argv: Sequence[str] = ()) -> Iterator[None]:
    """
    Turn the Hub's network and HTTP errors raised in the block into one clear message naming the cause and the fix.

    :param argv: the script's arguments (unused)
    """
    from huggingface_hub.errors import HfHubHTTPError

    try:
        yield
    except unreachable_errors() as error:
        raise SystemExit(
            f"The Hugging Face Hub (https://huggingface.co) cannot be reached: "
            f"{type(error).__name__}: {str(error).rstrip('.')}. "
            "Check the network connection (and HTTPS_PROXY), unset HF_HUB_OFFLINE, and run the command again."
        ) from error
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else None
        hint = {
            401: f"The token is missing or invalid. {TOKEN_HINT}",
            403: "The token may not write to this organization: use -orga with your user name or an organization you "
            "belong to, or a token with write access.",
            404: "Check -orga and -name (the repository is ORGANIZATION/ALGO-ENV unless -name is given).",
        }.get(status or 0, "")
        raise SystemExit(f"The Hugging Face Hub refused the request ({status}): {str(error).rstrip('.')}. {hint}") from error


def check_downloaded_run(run: Path, env_name: EnvironmentName) -> None:
    """
    The one place where a run that ``load_from_hub`` saved is checked, right after the download and before any script
    opens it (``enjoy`` reads ``args.yml`` with YAML's unsafe loader, unpickles parts of the model and builds the env
    its ``env`` field names). Checks of the run's files belong here: the files RL Zoo's scripts read are all there,
    the run folder passes :func:`~sb3_cartdqn.zoo.run_folder_checks.check_run_folder` and the model zip
    :func:`~sb3_cartdqn.zoo.run_folder_checks.check_model_zip` (unless ``TRUST_REMOTE_CODE=True``).

    :param run: the run folder (``FOLDER/ALGO/ENV_ID``)
    :param env_name: the env id, as RL Zoo names files after it
    :raises FileNotFoundError: naming the files that are missing
    :raises UntrustedFileError: naming the file that carries code
    """
    expected = [run / f"{env_name}.zip", run / env_name / "config.yml", run / env_name / "args.yml"]
    missing = [str(path) for path in expected if not path.is_file()]
    if missing:
        raise FileNotFoundError(
            f"load_from_hub saved the run in {run}, but {missing} are missing: the Hub repository is not an RL Zoo "
            "run of this algorithm and env. Check --algo, --env, -orga and -name."
        )
    # Nothing RL Zoo would evaluate or unpickle (config.yml, args.yml, vecnormalize.pkl, the model's pickled fields),
    # no env built from the model's env field, unless TRUST_REMOTE_CODE=True
    check_run_folder(str(run / env_name), None)
    check_model_zip(run / f"{env_name}.zip", None)


@contextmanager
def downloaded_run_checked(argv: Sequence[str]) -> Iterator[None]:
    """
    Work out where ``load_from_hub`` will save the run (``--exp-id 0``: after the latest) and, once the block has
    downloaded it, pass it to :func:`check_downloaded_run` (missing files, and the run configuration's safety).

    :param argv: ``load_from_hub``'s arguments
    """
    flags = parse_run_flags(argv)
    run = run_folder(flags, new=True)
    yield
    check_downloaded_run(run, EnvironmentName(flags.env))


#: What ``load_from_hub`` runs in, in order: Hub errors explained, optional run files skippable, the download checked
DOWNLOAD_CONTEXTS = (hub_errors_explained, optional_files_may_be_missing, downloaded_run_checked)
