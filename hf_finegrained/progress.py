"""What the commands show on the console while they work: a bar on every long step, never raw log dicts.

The Trainer's own bar (`ProgressCallback`) writes every log as a Python dict under the bar, and with
`disable_tqdm` its `PrinterCallback` prints them; `quiet_console(trainer)` swaps both for `TrainingBar` (the bar,
with the last loss beside it) and `LogLines` (with `disable_tqdm`: one readable line per log). The logs themselves
are unchanged: `trainer.state.log_history`, `report_to` integrations and the model card still get every value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from tqdm.auto import tqdm
from transformers import PrinterCallback, ProgressCallback, TrainerCallback

T = TypeVar("T")
SHOWN = ("loss", "itc_loss", "imc_loss", "cmr_loss", "distill_loss", "learning_rate")


def _shown(logs: dict[str, Any] | None) -> dict[str, str]:
    """The values of a log the console shows, formatted ({} for an evaluation or the closing summary); a loss term
    that is off (0) is left out."""
    logs = logs or {}
    return {key: f"{logs[key]:.4g}" for key in SHOWN if isinstance(logs.get(key), (int, float))
            and (logs[key] != 0 or key in ("loss", "learning_rate"))}


class TrainingBar(ProgressCallback):
    """The Trainer's progress bar, named `desc`, with the last logged loss terms as its postfix instead of dicts
    written under it."""

    def __init__(self, desc: str | None = None) -> None:
        super().__init__()
        self.desc = desc

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        super().on_train_begin(args, state, control, **kwargs)
        if self.desc and self.training_bar is not None:
            self.training_bar.set_description(self.desc)

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if state.is_world_process_zero and self.training_bar is not None:
            shown = _shown(logs)
            if shown:
                self.training_bar.set_postfix(shown, refresh=False)


class LogLines(TrainerCallback):
    """With `disable_tqdm`: one line per training log, `step 10/400: loss 1.234, ...` (no dict, no bar)."""

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        shown = _shown(logs)
        if state.is_world_process_zero and shown:
            print(f"step {state.global_step}/{state.max_steps}: " + ", ".join(f"{k} {v}" for k, v in shown.items()),
                  flush=True)


def quiet_console(trainer: Any, desc: str | None = None) -> Any:
    """`trainer` with the Trainer's console callbacks replaced by `TrainingBar` (named `desc`) or `LogLines`."""
    if trainer.pop_callback(ProgressCallback) is not None:
        trainer.add_callback(TrainingBar(desc))
    if trainer.pop_callback(PrinterCallback) is not None:
        trainer.add_callback(LogLines())
    return trainer


def bar(items: Iterable[T], desc: str, disable: bool = False, total: int | None = None) -> Iterator[T]:
    """A tqdm bar over `items` (off with `disable`, the commands' `--disable_tqdm`)."""
    return iter(tqdm(items, desc=desc, disable=disable, total=total, dynamic_ncols=True))
