"""See inside the CNN: Grad-CAM and Grad-CAM++, feature maps, learned kernels, activation statistics, and the
tutorials' hand-made filters (Sobel, template similarity, pooling) on the user's own image."""

from ferkit.explain.cam import METHODS, CamResult, grad_cam, layer_names
from ferkit.explain.filters import pool_pair, sobel, template_similarity
from ferkit.explain.maps import activation_stats, feature_maps, first_kernels, tile_grid
from ferkit.explain.report import Explanation, explain, explain_faces

__all__ = [
    "METHODS", "CamResult", "Explanation", "activation_stats", "explain", "explain_faces", "feature_maps",
    "first_kernels", "grad_cam", "layer_names", "pool_pair", "sobel", "template_similarity", "tile_grid",
]  # fmt: skip
