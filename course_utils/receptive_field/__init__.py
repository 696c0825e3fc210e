"""Receptive fields in space and time: computed layer by layer, measured with autograd, drawn and explored.

Modules: ``analytic`` (the recurrence over a network's layers), ``layers`` (each layer's kernel, stride, dilation
and padding), ``empirical`` (the field measured from input gradients), ``designs`` (late fusion, uniform 3D and
I3D-style networks), ``plot`` (growth figures) and ``widget`` (an interactive growth explorer).
"""

from course_utils._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "analytic": ["LayerField", "ReceptiveField", "ReceptiveFieldError", "receptive_field"],
    "layers": ["LayerGeometry", "POINTWISE_LAYERS", "layer_geometry", "output_length"],
    "empirical": ["empirical_receptive_field", "gradient_bounds", "input_gradient", "positive_copy"],
    "designs": ["i3d_style_net", "late_fusion_net", "uniform_3d_net"],
    "plot": ["growth_steps", "plot_field_over_frames", "plot_growth"],
    "widget": ["EDITABLE_LAYERS", "growth_widget", "with_layer_geometry"],
})
