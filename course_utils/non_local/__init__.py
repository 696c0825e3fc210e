"""Non-local blocks (Wang et al., 2018): the four pairwise functions, a 3D block, fast attention and its cost.

Modules: ``block`` (``NonLocalBlock`` and the naive, paper-shaped computation), ``fast`` (fused attention,
associativity and sort-and-scan versions of the same block), ``cost`` (time and memory of a forward pass) and
``widget`` (which positions a query attends to).
"""

from course_utils._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "block": ["IMPLS", "MODES", "NonLocalBlock", "embed", "pairwise_weights", "pointwise"],
    "fast": ["attend_fast", "concat_attention_sorted"],
    "cost": ["Cost", "block_step", "can_measure_memory", "compare_costs", "measure", "naive_intermediate_bytes"],
    "widget": ["affinity_widget", "centred_features", "plot_query_affinities", "query_affinities"],
})
