"""The ``tautan`` command line (Click).

Every text it prints comes from the catalogs, in the language of ``--lang`` or of the
environment's locale. Exit codes: 0 on success, 1 on a user error (one localized line on
stderr), 2 on a usage error.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

import click

from tautan.cli import companies, connections, database, invitations, processes, status
from tautan.cli.kit import (
    EXIT_OK,
    EXIT_USAGE,
    EXIT_USER_ERROR,
    LocalizedUsageError,
    UnknownCommand,
    kit,
)
from tautan.core.errors import TautanError
from tautan.core.i18n import Translator, normalize_locale, translator
from tautan.settings import Settings
from tautan.wiring import Container

log = logging.getLogger("tautan")


def build_cli(t: Translator) -> click.Group:
    """The whole command line, its texts in the reader's language; each area adds its commands."""
    tools = kit(t)

    @click.group(cls=tools.group_class, help=t("Tautan connects customers with their suppliers, from Slack and email."))
    @click.option("--lang", "_lang", type=tools.lang_choice, help=t("Language of the output (en or id)."))
    @click.pass_context
    def cli(ctx: click.Context, _lang: str | None) -> None:
        ctx.obj = Container(Settings.from_env())
        ctx.call_on_close(ctx.obj.close)

    for area in (database, companies, invitations, connections, processes, status):
        area.register(cli, tools)
    return cli


# --- entry point -----------------------------------------------------------------------------

# Commands whose own --lang is the language of what they create (an invitation, a company's
# notices), not of what the command line prints.
CONTENT_LANG_COMMANDS = frozenset({"invite", "import", "company"})


def output_locale(argv: Sequence[str], env: dict[str, str] | os._Environ[str] = os.environ) -> str:
    """The reader's language: the global ``--lang`` (or a listing command's own), else the
    environment's locale. ``tautan invite --lang id`` writes an Indonesian invitation and still
    speaks to the operator in the operator's language."""
    command = None
    for i, arg in enumerate(argv):
        value = argv[i + 1] if arg == "--lang" and i + 1 < len(argv) else (
            arg.split("=", 1)[1] if arg.startswith("--lang=") else None)
        if value is not None and (command is None or command not in CONTENT_LANG_COMMANDS):
            return normalize_locale(value, "en")
        if command is None and not arg.startswith("-") and not (i > 0 and argv[i - 1] == "--lang"):
            command = arg
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(name):
            return normalize_locale(env[name], normalize_locale(env.get("DEFAULT_LOCALE"), "en"))
    return normalize_locale(env.get("DEFAULT_LOCALE"), "en")


def main(argv: Sequence[str] | None = None) -> NoReturn:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    t = translator(output_locale(argv))
    cli = build_cli(t)
    try:
        cli.main(args=argv, prog_name="tautan", standalone_mode=False)
    except TautanError as error:
        _fail(t.error(error), EXIT_USER_ERROR)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.exceptions.NoArgsIsHelpError as error:
        click.echo(error.ctx.get_help())
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        _fail(t("Aborted."), EXIT_USER_ERROR)
    except click.UsageError as error:
        _fail(_usage_message(t, error), EXIT_USAGE)
    except click.ClickException as error:
        _fail(t("This command line is not valid. Try 'tautan --help'."), error.exit_code)
    except KeyboardInterrupt:
        _fail(t("Aborted."), 130)
    except Exception:
        log.debug("unexpected error", exc_info=True)
        log.error("unexpected error in the command line", exc_info=os.environ.get("LOG_LEVEL") == "DEBUG")
        _fail(t("Something went wrong on our side. Please try again later."), EXIT_USER_ERROR)
    sys.exit(EXIT_OK)


def _usage_message(t: Translator, error: click.UsageError) -> str:
    command = error.ctx.command_path if error.ctx else "tautan"
    hint = t("Try '{command} --help'.", command=command)
    if isinstance(error, LocalizedUsageError):
        text = error.message
    elif isinstance(error, UnknownCommand) and error.suggestion:
        text = t("Unknown command {name}. Did you mean {suggestion}?", name=error.name, suggestion=error.suggestion)
    elif isinstance(error, UnknownCommand):
        text = t("Unknown command {name}.", name=error.name)
    elif isinstance(error, click.NoSuchOption):
        text = t("Unknown option {option}.", option=error.option_name)
    elif isinstance(error, click.MissingParameter):
        text = t("Missing {name}.", name=_param_name(error.param))
    elif isinstance(error, click.BadParameter) and isinstance(getattr(error.param, "type", None), click.Choice):
        choices = [str(c) for c in error.param.type.choices]  # type: ignore[union-attr]
        text = t("{name} must be one of: {values}.", name=_param_name(error.param), values=", ".join(choices))
    elif isinstance(error, click.BadParameter) and isinstance(getattr(error.param, "type", None),
                                                              (click.types.IntParamType, click.IntRange)):
        text = t("{name} must be a whole number.", name=_param_name(error.param))
    elif isinstance(error, click.BadParameter):
        text = t("Invalid value for {name}.", name=_param_name(error.param))
    elif isinstance(error, click.BadOptionUsage):
        text = t("Option {option} needs a value.", option=error.option_name)
    else:
        text = t("This command line is not valid.")
    return f"{text} {hint}"


def _param_name(param: click.Parameter | None) -> str:
    if param is None:
        return "?"
    if isinstance(param, click.Option):
        return param.opts[0]
    return (param.metavar or param.name or "?").upper()


def _fail(message: str, code: int) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
