"""Accuracy against labels: `dedupe evaluate`.

- `labels.py`: the label format (docs/labels.md) and its loader;
- `metrics.py`: pair precision / recall / F1 and the adjusted Rand index;
- `evaluate.py`: an output directory scored against labels.
"""
