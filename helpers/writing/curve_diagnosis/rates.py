"""The curve reading's sentences about the learning rate: a decaying schedule's flat end, a
run still improving at a small rate, and the cuts of a plateau schedule, each naming the run's
own schedule (never "cosine" for another) and the rates history.csv recorded; and the next
steps that follow, which never advise the schedule the run already has.
"""

from __future__ import annotations

from helpers import wording
from helpers.writing.curve_diagnosis.history import LOW_RATE, Curves, rate_cuts
from helpers.writing.curve_diagnosis.sentences import accuracy_after
from helpers.writing.training_text import SCHEDULE_NAMES, rate


def _share(curves: Curves, index: int) -> str:
    return wording.share(curves.rate_share(index))


def plateau_sentence(curves: Curves, tail: list[int], overfitting: bool) -> str:
    """The last epochs ran at under LOW_RATE of the initial rate: the curves' flat end."""
    first, last = tail[0], curves.last
    before = max(first - 1, 0)
    context = curves.context
    name = SCHEDULE_NAMES[context.lr_schedule]
    if len(tail) == 1:
        when = (f"In the last epoch ({curves.epoch[last]}) {name} had brought the learning "
                f"rate down to {_share(curves, last)} of its initial {context.learning_rate:g} "
                "on average")
    else:
        when = (f"In the last {len(tail)} epochs ({curves.epoch[first]}-{curves.epoch[last]}) "
                f"{name} had brought the learning rate below {wording.share(LOW_RATE)} of its "
                f"initial {context.learning_rate:g} ({_share(curves, first)} in epoch "
                f"{curves.epoch[first]}, {_share(curves, last)} in epoch {curves.epoch[last]})")
    change = curves.val_loss[last] - curves.val_loss[before]
    final = curves.val_loss[last] - curves.val_loss[last - 1]
    longer = "a longer schedule" if context.lr_schedule == "cosine" else "a slower decay"
    ending = ("" if overfitting else
              " A curve flattened by the schedule says nothing about whether more training "
              f"would help; only {longer} can tell.")
    flat = ("" if len(tail) == 1 else
            f"; in the last epoch validation loss moved only {abs(final):.4f} "
            f"({wording.share(final / curves.val_loss[last - 1])})")
    return (f"{when}, so the last steps were small: validation loss went from "
            f"{curves.val_loss[before]:.4f} at epoch {curves.epoch[before]} to "
            f"{curves.val_loss[last]:.4f} ({'+' if change >= 0 else '−'}{abs(change):.4f}), "
            f"training loss from {curves.loss[before]:.4f} to {curves.loss[last]:.4f}, and "
            f"{accuracy_after(curves, before, last)}{flat}.{ending}")


def improving_at_low_rate_sentence(curves: Curves) -> str:
    """Validation loss still fell in the last epoch although the rate was nearly spent."""
    last, before = curves.last, curves.last - 1
    fall = 1 - curves.val_loss[last] / curves.val_loss[before]
    ended = ("when the schedule ended" if curves.context.lr_schedule == "cosine"
             else "at that small rate")
    return (f"Validation loss still fell {wording.share(fall)} in the last epoch "
            f"({curves.val_loss[before]:.4f} → {curves.val_loss[last]:.4f}) although "
            f"{SCHEDULE_NAMES[curves.context.lr_schedule]} had brought the learning rate to "
            f"{_share(curves, last)} of its start: the run was still improving {ended}.")


def rate_cut_sentence(curves: Curves, cuts: list[int]) -> str:
    """When the plateau schedule cut the rate, to what, and what validation loss did after."""
    rates = curves.rates or []
    patience = curves.context.lr_plateau_patience
    listed = wording.and_list([f"{rate(rates[index])} from epoch {curves.epoch[index]}"
                               for index in cuts])
    times = "once" if len(cuts) == 1 else f"{len(cuts)} times"
    first = cuts[0]
    before = min(range(first), key=lambda index: curves.val_loss[index])
    after = min(range(first, curves.last + 1), key=lambda index: curves.val_loss[index])
    line = (f"**The plateau schedule cut the rate** {times}, each time validation loss had "
            f"gone {wording.plural(patience, 'epoch')} without a new low: to {listed}. ")
    if curves.val_loss[after] < curves.val_loss[before]:
        return line + (f"After the first cut validation loss fell below its earlier lowest "
                       f"({curves.val_loss[before]:.4f} at epoch {curves.epoch[before]}) to "
                       f"{curves.val_loss[after]:.4f} at epoch {curves.epoch[after]}: the "
                       "smaller steps found a lower loss than the larger ones could.")
    return line + (f"Validation loss never went below its lowest before the first cut "
                   f"({curves.val_loss[before]:.4f} at epoch {curves.epoch[before]}) after it: "
                   "smaller steps did not help, so the stall was not the rate's.")


def level_rate(curves: Curves) -> str:
    """At what rate validation levelled off, as the levelled sentence's opening words."""
    schedule = curves.context.lr_schedule
    if schedule == "constant":
        return "at this constant learning rate"
    if schedule == "plateau":
        return ("even at the rates the plateau schedule cut to," if rate_cuts(curves)
                else "at this learning rate (the plateau schedule had not cut it yet)")
    if schedule == "cosine":
        return "at this learning rate"
    return f"while {SCHEDULE_NAMES[schedule]} lowered the rate,"


def levelled_step(curves: Curves) -> str:
    """What to try when validation levelled off, never the schedule the run already has."""
    schedule = curves.context.lr_schedule
    if schedule == "constant":
        return ("Let the learning rate decay over the run (lr_schedule) or lower it "
                "(learning_rate): validation stopped improving at a constant rate, where "
                "smaller final steps usually gain a little more.")
    cuts = rate_cuts(curves)
    if schedule == "plateau" and not cuts:
        return (f"Cut the rate sooner with a shorter plateau patience (lr_plateau_patience, now "
                f"{curves.context.lr_plateau_patience}): validation levelled off before the "
                "plateau schedule cut the rate.")
    if schedule == "plateau":
        return ("Change the network or the data rather than the learning rate: validation "
                "stopped improving even after the plateau schedule cut the rate to "
                f"{rate((curves.rates or [0.0])[cuts[-1]])}.")
    return ("Change the network or the data rather than train longer: validation had "
            f"stopped improving while {SCHEDULE_NAMES[schedule]} was still lowering the rate."
            if schedule != "cosine" else
            "Change the network or the data rather than train longer: validation had "
            "stopped improving before the schedule ended.")


def plateau_step(curves: Curves) -> str:
    """How to learn whether a schedule's flat end hid more progress."""
    if curves.context.lr_schedule == "cosine":
        return ("Find out whether longer training helps with a longer schedule: more epochs "
                "(epochs), over which the cosine decay stretches. This run's flat end was set "
                "by the learning rate reaching zero and cannot say.")
    slower = ("a factor closer to 1 (lr_decay_factor) or more epochs between cuts "
              "(lr_decay_epochs)" if curves.context.lr_schedule == "step" else
              "a factor closer to 1 (lr_decay_factor)")
    return (f"Find out whether longer training helps with a slower decay: {slower}. This "
            f"run's flat end was set by {SCHEDULE_NAMES[curves.context.lr_schedule]} bringing "
            f"the rate to {wording.share(curves.rate_share(curves.last))} of its start and "
            "cannot say.")
