"""The rule kinds: each turns one rule and one source into items (one row per rule instance)."""
from p06.reconcile.kinds.completeness import completeness_figures, completeness_sources, completeness_units
from p06.reconcile.kinds.figures import compare, stated_ratio, stated_total
from p06.reconcile.kinds.history import outlier, stock_not_falling

BUILDERS = {
    "compare": compare, "stated_ratio": stated_ratio, "stated_total": stated_total,
    "stock_not_falling": stock_not_falling, "outlier": outlier,
    "completeness_units": completeness_units, "completeness_sources": completeness_sources,
    "completeness_figures": completeness_figures,
}
