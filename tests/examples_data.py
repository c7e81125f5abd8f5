"""Generated data for the examples tests (see :mod:`lt_core.data.synth_images`)."""
from lt_core.data.synth_images import class_colour, draw_sample, make_image_list_dataset  # noqa: F401
