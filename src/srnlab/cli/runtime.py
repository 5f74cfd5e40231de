"""How the commands end: a user's mistake as one line, `<command>: error: ...`, with exit code 2 and no
traceback (HYDRA_FULL_ERROR=1 shows it); everything else (a bug, a crash inside torch) keeps its traceback.
Also the Hydra entry point that makes Hydra's own errors behave so, and the clean-up of a job folder that a
failing job never wrote to."""

from __future__ import annotations

import errno
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from hydra.errors import CompactHydraException, InstantiationException
from omegaconf.errors import ConfigKeyError, MissingMandatoryValue

from srnlab.config import TABLE1_IDS
from srnlab.errors import UserError

USAGE_EXIT_CODE = 2
FULL_ERROR = "HYDRA_FULL_ERROR"
PATH_ERRORS = (PermissionError, FileExistsError, FileNotFoundError, IsADirectoryError, NotADirectoryError)
UNTOUCHED = {".hydra", ".lock"}  # what a job folder holds before the job writes anything (plus Hydra's *.log)
HYDRA_PATH_HINT = "paths.log_dir=<folder>"  # where srn-train and srn-eval write, so what to change


def user_message(error: BaseException, path_hint: str) -> str | None:
    """The one line to print for a user's mistake, or None for anything that deserves a traceback.
    `path_hint` is the command's own option that chooses where it writes (e.g. `--out <folder>`): a path it
    cannot use is fixed there."""
    if isinstance(error, InstantiationException) and error.__cause__ is not None:
        return user_message(error.__cause__, path_hint)
    full = no_space_left(error)
    if full is not None:
        where = f" writing {full.filename}" if full.filename else ""
        return (
            f"no space left on the device{where}: free some space, or write elsewhere ({path_hint}). Files already "
            "written are whole (checkpoints are replaced atomically): run the command again to resume"
        )
    if isinstance(error, UserError | CompactHydraException):
        return one_line(str(error), error.__cause__)
    if isinstance(error, MissingMandatoryValue):
        key = getattr(error, "full_key", None) or "a required option"
        return f"{key} has no value: set it on the command line ({key}=...)"
    if isinstance(error, ConfigKeyError):
        return one_line(str(error))
    if isinstance(error, PATH_ERRORS):
        if error.filename is None:
            return one_line(str(error))
        return f"cannot use {error.filename}: {path_problem(error)}. Choose another path (e.g. {path_hint})"
    return None


def no_space_left(error: BaseException) -> OSError | None:
    """The 'No space left on device' OSError behind an error, however deep: torch reports a full disk while
    saving as `RuntimeError: [enforce fail at inline_container.cc] . unexpected pos`, with the OSError only
    in its context."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            return error
        error = error.__cause__ or error.__context__
    return None


def path_problem(error: OSError) -> str:
    """What is wrong with the path, in words: the OS says "File exists" or "Not a directory" when a file
    stands where a folder should go, which does not say which file."""
    if isinstance(error, FileExistsError | NotADirectoryError):
        path = Path(error.filename)
        blocker = next((p for p in (path, *path.parents) if p.is_file()), None)
        if blocker is not None:
            return f"{blocker} is a file, not a folder"
    return str(error.strerror)


def one_line(text: str, cause: BaseException | None = None) -> str:
    """Hydra's multi-line messages as one line: option lists joined by commas, the cause's first line added."""
    text = text.split("Config search path:", 1)[0]  # Hydra's search path says nothing a user can act on
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    parts: list[str] = []
    for line in lines:
        if line.startswith("\t") and parts:
            parts[-1] += ("" if parts[-1].endswith(":") else ",") + " " + line.strip()
        else:
            parts.append(line.strip())
    if isinstance(cause, ConfigKeyError):
        parts.append(str(cause).splitlines()[0])
    if "Could not find 'experiment/" in text:
        parts.append(f"Table 1 rows: {', '.join(f'table1/{i}' for i in TABLE1_IDS)}.")
    return " ".join(parts)


def exit_with(prog: str, message: str) -> None:
    sys.stderr.write(f"{prog}: error: {message}\n")
    raise SystemExit(USAGE_EXIT_CODE)


@contextmanager
def user_errors(prog: str, path_hint: str, traceback: bool | None = None) -> Iterator[None]:
    """Turn a user's mistake raised inside the block into `<prog>: error: ...` and exit code 2 (unless
    `traceback`, by default HYDRA_FULL_ERROR=1). `path_hint`: see user_message."""
    wants_traceback = os.environ.get(FULL_ERROR) == "1" if traceback is None else traceback
    try:
        yield
    except Exception as error:
        message = None if wants_traceback else user_message(error, path_hint)
        if message is None:
            raise
        exit_with(prog, message)


def run_hydra_app(prog: str, app: Callable[[], object]) -> None:
    """Run a `@hydra.main` app so that a user's mistake, also in the command line itself (an unknown
    experiment, a key that does not exist), ends in one line. Hydra prints its own report of such errors
    unless HYDRA_FULL_ERROR=1, in which case it raises them: so it is set for the app, and the caller's
    setting decides only whether a user error still shows its traceback."""
    previous = os.environ.get(FULL_ERROR)
    os.environ[FULL_ERROR] = "1"
    try:
        with user_errors(prog, HYDRA_PATH_HINT, traceback=previous == "1"):
            app()
    finally:
        if previous is None:
            os.environ.pop(FULL_ERROR, None)
        else:
            os.environ[FULL_ERROR] = previous


@contextmanager
def discard_if_untouched(job_folder: Path) -> Iterator[None]:
    """If the job fails before writing anything of its own, remove the folder Hydra made for it, so that a
    mistake leaves nothing behind. A folder holding anything else (checkpoints, results, a user's files)
    is never touched."""
    try:
        yield
    except BaseException:
        if job_folder.is_dir() and _holds_nothing_of_its_own(job_folder, top=True):
            shutil.rmtree(job_folder, ignore_errors=True)
        raise


def _holds_nothing_of_its_own(folder: Path, top: bool = False) -> bool:
    """Only Hydra's bookkeeping, the job's lock and log, and empty folders (a logger's, made at start)."""
    for entry in folder.iterdir():
        if top and (entry.name in UNTOUCHED or (entry.is_file() and entry.suffix == ".log")):
            continue
        if not (entry.is_dir() and not entry.is_symlink() and _holds_nothing_of_its_own(entry)):
            return False
    return True
