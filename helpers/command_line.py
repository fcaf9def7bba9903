"""What every command line shares (runner, serving, datasets): a click command run as
`main(argv) -> exit code`, with the user's mistakes shown as one `error: ...` line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

import click


class CommandError(click.ClickException):
    """A failure the user can fix, shown as one `error: ...` line on stderr."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: IO[Any] | None = None) -> None:
        """Print `error: MESSAGE` on stderr."""
        click.echo(f"error: {self.format_message()}", file=file, err=True)


def run_command(command: click.Command, argv: Sequence[str] | None, script: str,
                errors: tuple[type[Exception], ...] = ()) -> int:
    """Run a click command as a function: its returned exit code, 2 for bad usage, and 1
    with one `error: ...` line for any of `errors`.

    With argv None the arguments and the program's name (`python -m ...` or the console
    script) come from the command line; called with argv, messages name `script`.
    """
    try:
        # standalone_mode=False: click returns instead of calling sys.exit, so tests can call
        # main(); --help comes back as its exit code, 0.
        code = command.main(args=None if argv is None else list(argv),
                            prog_name=None if argv is None else script, standalone_mode=False)
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.Abort:
        return 130
    except errors as error:
        click.echo(f"error: {error}", err=True)
        return 1
    return code if isinstance(code, int) else 0
