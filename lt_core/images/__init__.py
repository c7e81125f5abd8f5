"""Images of a dataset: find them under an image root, read them, decode masks, draw boxes, thumbnails.

No Streamlit here; the app, the notebooks and the copy-paste augmentation share these functions.

* :mod:`~lt_core.images.roots`  — image records / list paths -> files (COCO ``file_name``, LVIS v1
  ``coco_url``, ImageNet-LT / Places-LT lists, image-folder trees)
* :mod:`~lt_core.images.read`   — Pillow reading: EXIF orientation, any mode -> 8-bit RGB, clear errors
* :mod:`~lt_core.images.masks`  — polygons / RLE / uncompressed RLE (pycocotools.mask), boxes <-> pixels
* :mod:`~lt_core.images.draw`   — boxes coloured by outcome or class, labels and scores, mask outlines,
  a plain canvas for generated data
* :mod:`~lt_core.images.thumbs` — thumbnails on demand in a capped cache folder, written atomically
"""
from .draw import (CLASS_PALETTE, OUTCOME_COLORS, class_color, contact_sheet, draw_annotations, font_size_for,
                   generated_canvas, hex_to_rgb, line_width_for, outcome_legend)
from .masks import (annotation_mask, box_mask, box_pixels, decode_segmentation, encode_mask, mask_bbox, mask_outline,
                    rle_area, segmentation_to_rle)
from .read import encode_image, image_size, read_image
from .roots import (ImageIndex, candidate_relpaths, image_relpath, resolve_gt_images, resolve_list_paths,
                    safe_relpath)
from .thumbs import ThumbnailCache, thumbnail_array

__all__ = ["ImageIndex", "candidate_relpaths", "image_relpath", "resolve_gt_images", "resolve_list_paths",
           "safe_relpath", "read_image", "image_size", "encode_image", "segmentation_to_rle", "decode_segmentation",
           "annotation_mask", "encode_mask", "mask_bbox", "box_mask", "box_pixels", "mask_outline", "rle_area",
           "OUTCOME_COLORS", "CLASS_PALETTE", "class_color", "line_width_for", "font_size_for", "draw_annotations",
           "generated_canvas", "hex_to_rgb", "contact_sheet", "ThumbnailCache", "thumbnail_array",
           "outcome_legend"]
