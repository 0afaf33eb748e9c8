"""One flag convention for every command (`hf-finegrained-train`, `-eval`, `-interpolate`, `-build`, the ablation).

Every flag is accepted as `--a_b` and as `--a-b`; each concept has one name (the `transformers` name where one
exists: `--output_dir`, `--disable_tqdm`, run_clip.py's `--caption_column`, `--image_column`); a name used by an
earlier release is kept as an alias that still works and warns (`FutureWarning`) naming the flag to use instead.
`HfArgumentParser` (the training command) accepts both spellings by itself; these helpers give argparse commands
the same.
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


class OneNameHelpFormatter(argparse.HelpFormatter):
    """Help that names each flag once (`--a_b VALUE`): its other spelling and its old names are read, not listed
    (each command's description says so)."""

    def _format_action_invocation(self, action: argparse.Action) -> str:
        if not action.option_strings or action.dest == "help":
            return super()._format_action_invocation(action)
        if action.nargs == 0:
            return action.option_strings[0]
        metavar = self._format_args(action, self._get_default_metavar_for_optional(action))
        return f"{action.option_strings[0]} {metavar}"


class OneNameRawHelpFormatter(OneNameHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """`OneNameHelpFormatter` keeping the description's own line breaks."""


def spellings(name: str) -> list[str]:
    """The option strings of a flag name: `--a_b` and `--a-b` (one string for a name without either)."""
    name = name.lstrip("-")
    return list(dict.fromkeys((f"--{name.replace('-', '_')}", f"--{name.replace('_', '-')}")))


def add_flag(parser: argparse.ArgumentParser | Any, name: str, *, deprecated: Iterable[str] = (),
             **kwargs: Any) -> argparse.Action:
    """`parser.add_argument` for `--name` in both spellings, plus each `deprecated` name (both spellings too),
    all writing to `name`; call `warn_deprecated` on the command line to warn about the old names."""
    strings = spellings(name) + [s for old in deprecated for s in spellings(old)]
    kwargs.setdefault("dest", name.lstrip("-").replace("-", "_"))
    return parser.add_argument(*strings, **kwargs)


def flag_key(argument: str) -> str | None:
    """`--a-b=1` -> 'a_b'; None for an argument that is not a long flag."""
    if not argument.startswith("--") or argument == "--":
        return None
    return argument[2:].split("=", 1)[0].replace("-", "_")


def warn_deprecated(argv: Sequence[str], aliases: Mapping[str, str], command: str) -> None:
    """A `FutureWarning` for each old flag name on the command line (`aliases`: old name -> the name to use)."""
    for argument in argv:
        key = flag_key(argument)
        if key in aliases:
            warnings.warn(f"{command}: --{key} is deprecated and will be removed; use --{aliases[key]} (the same "
                          "setting).", FutureWarning, stacklevel=3)
