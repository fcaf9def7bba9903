"""The runner shows each epoch as training appends it, with the time left, in plain text."""

import json
import time
from pathlib import Path

from helpers.runner.live import EpochTail, epoch_line, time_left


def epoch(number: int, seconds: float = 20.0) -> dict:
    return {"epoch": number, "epochs": 10, "seconds": seconds, "loss": 0.5, "accuracy": 0.8,
            "val_loss": 0.4, "val_accuracy": 0.85}


def test_epoch_line_shows_the_figures_and_the_time_left() -> None:
    line = epoch_line(epoch(4), [20.0, 22.0, 18.0, 20.0])
    assert "epoch   4/10" in line and "val_accuracy 0.8500" in line and "20.0 s" in line
    assert line.endswith("at most 2 min 00 s left")
    assert epoch_line(epoch(10), [20.0]).endswith("last epoch")
    assert line.isprintable()  # no control characters: CI logs read like a terminal
    assert [time_left(45), time_left(185), time_left(3720)] == ["45 s", "3 min 05 s",
                                                                 "1 h 02 min"]


def test_lines_are_shown_while_they_arrive_and_old_ones_are_not(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "epochs.jsonl"
    path.parent.mkdir()
    path.write_text(json.dumps(epoch(1)) + "\n")  # from before a resume: not shown again
    shown: list[tuple[float, str]] = []
    with EpochTail(path, lambda text="", **_: shown.append((time.monotonic(), text))) as tail:
        with open(path, "a") as handle:
            handle.write(json.dumps(epoch(2)) + "\n")
            handle.flush()
            time.sleep(1.2)
            seen_before_the_step_ended = len(shown)
            handle.write(json.dumps(epoch(3))[:20])  # half a line: waits for its end
            handle.flush()
            time.sleep(0.8)
            handle.write(json.dumps(epoch(3))[20:] + "\n")
    assert seen_before_the_step_ended == 2  # a newline after the label, then epoch 2
    assert [text.split("epoch")[1][:6] for _, text in shown[1:]] == ["   2/1", "   3/1"]
    assert tail.lines_shown == 2
