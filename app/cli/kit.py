"""What every command module of the CLI shares: the localized Click classes, the common options,
the errors that carry a localized message, and who acts from the command line."""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from typing import Any, cast

import click

from tautan.core.i18n import SUPPORTED_LOCALES, Translator

EXIT_OK, EXIT_USER_ERROR, EXIT_USAGE = 0, 1, 2
CLI_ACTOR = "cli:" + (os.environ.get("USER") or "operator")


class LocalizedUsageError(click.UsageError):
    """A usage error whose message is already in the reader's language."""


class UnknownCommand(click.UsageError):
    def __init__(self, name: str, ctx: click.Context | None = None, suggestion: str | None = None) -> None:
        super().__init__(name, ctx)
        self.name, self.suggestion = name, suggestion


def _localized(t: Translator) -> tuple[type[click.Command], type[click.Group]]:
    """Command and group classes whose built-in help texts come from our catalogs too."""

    class Localized:
        def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
            pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
            formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=t("Usage:") + " ")

        def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
            rows = [r for p in self.get_params(ctx)  # type: ignore[attr-defined]
                    if not isinstance(p, click.Argument) and (r := p.get_help_record(ctx))]
            if rows:
                with formatter.section(t("Options")):
                    formatter.write_dl(rows)
            if isinstance(self, click.Group):
                rows = [(name, command.get_short_help_str(60))
                        for name in self.list_commands(ctx)
                        if (command := self.get_command(ctx, name)) and not command.hidden]
                if rows:
                    with formatter.section(t("Commands")):
                        formatter.write_dl(rows)

        def get_help_option(self, ctx: click.Context) -> click.Option | None:
            option = super().get_help_option(ctx)  # type: ignore[misc]
            if option is not None:
                option.help = t("Show this message and exit.")
            return cast("click.Option | None", option)

    class Command(Localized, click.Command):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("options_metavar", t("[OPTIONS]"))
            super().__init__(*args, **kwargs)

    class Group(Localized, click.Group):
        command_class = Command

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("options_metavar", t("[OPTIONS]"))
            kwargs.setdefault("subcommand_metavar", t("COMMAND [ARGS]..."))
            super().__init__(*args, **kwargs)

        def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
            name = args[0] if args else ""
            if self.get_command(ctx, name) is None and not name.startswith("-"):
                near = difflib.get_close_matches(name.lower(), self.list_commands(ctx), n=1, cutoff=0.6)
                raise UnknownCommand(name, ctx, suggestion=near[0] if near else None)
            return super().resolve_command(ctx, args)

    Group.group_class = Group
    return Command, Group



@dataclass(frozen=True)
class Kit:
    """What a command module needs to declare its commands in the reader's language."""

    t: Translator
    command_class: type[click.Command]
    group_class: type[click.Group]

    @property
    def lang_choice(self) -> click.Choice[str]:
        return click.Choice(SUPPORTED_LOCALES, case_sensitive=False)

    def json_flag(self, f: Any) -> Any:
        return click.option("--json", "as_json", is_flag=True, help=self.t("Print JSON instead of text."))(f)

    def output_lang(self, f: Any) -> Any:
        return click.option("--lang", "_lang", type=self.lang_choice, expose_value=True,
                            help=self.t("Language of the output (en or id)."))(f)


def kit(t: Translator) -> Kit:
    command_class, group_class = _localized(t)
    return Kit(t=t, command_class=command_class, group_class=group_class)
