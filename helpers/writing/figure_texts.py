"""Each figure's one-line caption and its alt text, keyed by the name the notebooks save it
under: what a reader sees under the figure and what a screen reader says (helpers.writing.plots)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FigureText:
    """What a reader sees under a figure (the caption) and what a screen reader says (alt)."""

    caption: str  # one line, true of every run: the numbers are in the text beside the figure
    alt: str  # what the image looks like, for someone who cannot see it


# Keyed by the name each notebook saves the figure under (artifacts.figure_path's NAME).
FIGURE_TEXTS = {
    "samples": FigureText(
        "Sample training images: the first ones of each class, one class per row.",
        "A grid of small training images, one row per class, each row labelled with its "
        "class name."),
    "class_distribution": FigureText(
        "How many images of each class are in each split.",
        "A grouped bar chart: one group of bars per class, one bar per split, the bar's "
        "height the number of images."),
    "training_batch": FigureText(
        "The first images of one training batch, as the model receives them (after any "
        "augmentation).",
        "A row of small training images from one batch."),
    "training_curves": FigureText(
        "Loss (left) and accuracy (middle) after each epoch, on the training and the "
        "validation images, and the learning rate of each epoch (right).",
        "Three line charts against the epoch number: loss on the left and accuracy in the "
        "middle, each with one line for the training and one for the validation images, "
        "and on the right the learning rate, one point per epoch."),
    "predictions": FigureText(
        "Test images with the predicted class, its probability and the true class; the "
        "sample is chosen to show mistakes, so the share of red tiles is not the error rate.",
        "A grid of test images, each framed in blue with a tick when the prediction is right "
        "and in dashed red with a cross when it is wrong, labelled with the predicted class, "
        "its probability and the true class."),
    "confusion_counts": FigureText(
        "Confusion matrix: how many test images of each true class (rows) were predicted as "
        "each class (columns); the diagonal holds the correct predictions.",
        "A heatmap of a square table of counts, true classes down the side and predicted "
        "classes along the bottom, darker blue for more images."),
    "confusion_normalized": FigureText(
        "The confusion matrix with each row divided by its class's test images: the "
        "diagonal is each class's recall.",
        "A heatmap of shares from 0 to 1, true classes down the side and predicted classes "
        "along the bottom, darker blue for a larger share."),
    "comparison_curves": FigureText(
        "Validation loss (left) and accuracy (right) per epoch of each network compared: "
        "the mean over its seeds, with a band from the lowest to the highest seed.",
        "Two line charts against the epoch number, one coloured line per network with a "
        "shaded band around it, validation loss on the left and accuracy on the right."),
    "misclassified": FigureText(
        "Misclassified test images, the most confident mistakes first, each with its true "
        "class, the prediction and its probability.",
        "A grid of misclassified test images, each titled with its true class, the "
        "predicted class and the predicted probability."),
}

# The curves of a history recorded before each epoch's learning rate was (two panels).
TRAINING_CURVES_WITHOUT_RATE = FigureText(
    "Loss (left) and accuracy (right) after each epoch, on the training and the validation "
    "images.",
    "Two line charts against the epoch number, loss on the left and accuracy on the right, "
    "each with one line for the training and one for the validation images.")


# Which figure a plotting function draws, for figures shown without a name (the report
# reads it from the cell's code); confusion_heatmap draws two, told apart by figure_path.
FIGURE_OF_FUNCTION = {"sample_grid": "samples", "class_distribution": "class_distribution",
                      "image_row": "training_batch", "training_curves": "training_curves",
                      "prediction_gallery": "predictions",
                      "misclassified_gallery": "misclassified"}


CAPTION_PREFIX = "Figure: "
