"""Write the comparison report: self-contained HTML, Markdown with PNG files, and JSON.

The HTML embeds every figure as a base64 PNG, so the one file can be mailed or archived. The
Markdown holds the same tables and links ``figures/<target>_<figure>.png``. The JSON holds every
number at full precision (NaN written as ``null``); the tables show the same numbers through
:func:`format_cell`.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from surrogates.io import atomic_write, write_text
from surrogates.metrics import nominal_coverage

__all__ = ["CLASSIFIER_COLUMNS", "REGRESSION_COLUMNS", "format_cell", "write_report"]


def _coverage_header(k: int) -> str:
    return f"% within {k} std (nominal {100 * nominal_coverage(k):.1f})"


_COST_COLUMNS = [
    ("train_seconds", "train time [s]"),
    ("predict_us_per_point", "predict [µs / point]"),
    ("n_parameters", "stored numbers"),
    ("bytes_on_disk", "size on disk"),
]
#: (row key, column header) of the regression tables.
REGRESSION_COLUMNS = [
    ("model", "model"),
    ("variant", ""),
    ("mape_percent", "mean abs % error"),
    ("coverage_1std", _coverage_header(1)),
    ("coverage_2std", _coverage_header(2)),
    ("coverage_3std", _coverage_header(3)),
    *((f"interval_coverage_{k}std", f"% in central {100 * nominal_coverage(k):.1f} % interval")
      for k in (1, 2, 3)),
    ("chi2_per_dof", "χ² / n"),
    ("chi2_per_dof_model_space", "χ² / n, model space"),
    ("variance_scale", "variance scale s²"),
    *_COST_COLUMNS,
]
#: (row key, column header) of the classifier table.
CLASSIFIER_COLUMNS = [
    ("model", "model"),
    ("variant", ""),
    ("precision", "precision"),
    ("recall", "recall"),
    ("f1", "F1"),
    ("precision_3std", "precision, mean + 3 std"),
    ("recall_3std", "recall, mean + 3 std"),
    ("f1_3std", "F1, mean + 3 std"),
    ("roc_auc", "ROC AUC"),
    ("accuracy", "accuracy"),
    ("brier", "Brier score"),
    ("ece", "ECE"),
    *_COST_COLUMNS,
]

_PERCENT = {f"{kind}_{k}std" for kind in ("coverage", "interval_coverage") for k in (1, 2, 3)}
_FOUR_DECIMALS = {"precision", "recall", "f1", "precision_3std", "recall_3std", "f1_3std",
                  "roc_auc", "accuracy", "brier", "ece"}


def format_cell(key: str, value: Any) -> str:
    """The text of one table cell: ``value`` of column ``key`` (blank for a missing value)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str):
        return value
    if key in _PERCENT:
        return f"{100 * value:.1f}"
    if key in _FOUR_DECIMALS:
        return f"{value:.4f}"
    if key == "mape_percent":
        return f"{value:.3f}"
    if key == "train_seconds":
        return f"{value:.1f}"
    if key == "n_parameters":
        return f"{value:,}"
    if key == "bytes_on_disk":
        return f"{value / 1024:.1f} KiB"
    return f"{value:#.3g}".rstrip(".")  # three significant digits, trailing zeros kept


def _columns(section: dict[str, Any]) -> list[tuple[str, str]]:
    return CLASSIFIER_COLUMNS if section["target"].is_classifier else REGRESSION_COLUMNS


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _notes(section: dict[str, Any]) -> list[str]:
    return [f"{row['model']}: {row['note']}" for row in section["rows"] if row.get("note")]


_READING = [
    "Every table number is computed by surrogates.metrics from the test predictions saved in "
    "predictions/<target>_<model>.npz; report.json holds them at full precision.",
    "Regression metrics are in target units (GeV, fb): mean abs % error of the predictive mean; "
    "% of test points with |true - mean| <= k std (the Gaussian reading of the bars); % of test "
    "points inside the central 68.3 / 95.4 / 99.7 % interval of the members (no shape assumed: "
    "the reading for heavy-tailed predictives, e.g. the 'local_quantile' recalibration); "
    "χ² / n = mean squared pull "
    "(arXiv:1611.02704 compares χ² with n). 'χ² / n, model space' uses pulls of the model-space "
    "predictive (ln σ for xsec): 1 when the error bars are calibrated there.",
    "Recalibrated rows: the model-space std is multiplied by s, with s² the mean squared "
    "model-space pull on the validation split (workflows/report/recalibration.py); the test "
    "numbers are then recomputed in target units.",
    "Classifier: a point is predicted valid when P(valid) > 0.5, or, in the 'mean + 3 std' "
    "columns, when P(valid) + 3 std > 0.5 (arXiv:2007.04506, Table 3).",
    "Costs: training wall time on the device named in report.json; prediction time of "
    "Surrogate.predict on the whole test split, best of 3 calls after a warm-up call, per "
    "point; stored numbers = elements of the saved tensors; size of the saved model folder.",
]


# --------------------------------------------------------------------------- markdown


def _md_table(section: dict[str, Any]) -> str:
    cols = _columns(section)
    lines = ["| " + " | ".join(h for _, h in cols) + " |", "|" + "---|" * len(cols)]
    for row in section["rows"]:
        lines.append("| " + " | ".join(format_cell(k, row.get(k)) for k, _ in cols) + " |")
    return "\n".join(lines)


def _intro(meta: dict[str, Any]) -> str:
    call = meta["call"]
    return (
        f"Targets {', '.join(call['targets'])}; models {', '.join(call['models'])}; budget "
        f"{call['budget']}; data {call['data']}; seed {call['seed']}. Created {meta['created']} "
        f"by bsm-surrogates {meta['library_version']} (torch {meta['torch_version']}) on "
        f"{meta['machine']}; total {meta['total_seconds']:.0f} s."
    )


def _markdown(meta: dict[str, Any], sections: Sequence[dict[str, Any]]) -> str:
    parts = [
        "# Surrogate calibration comparison",
        "",
        _intro(meta),
        "",
        f"Command: `{meta['argv']}`",
        "",
        *[f"- {line}" for line in _READING],
    ]
    for s in sections:
        t = s["target"]
        parts += [
            "",
            f"## {t.name} ({t.paper_name})",
            "",
            f"Split: {s['split']['train']} train, {s['split']['val']} validation, "
            f"{s['split']['test']} test points.",
            "",
            _md_table(s),
            "",
            *[f"- {n}" for n in _notes(s)],
            "",
        ]
        for fig in s["figures"]:
            parts += [f"![{fig.title}](figures/{t.name}_{fig.key}.png)", "", f"*{fig.caption}*", ""]
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- html

_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; max-width: 1500px; color: #222; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.85em; }
th, td { border: 1px solid #bbb; padding: 3px 7px; text-align: right; }
th { background: #eef; } td:first-child, td:nth-child(2) { text-align: left; }
tr.recalibrated td { background: #fff7e6; }
tr.published td { background: #eee; font-style: italic; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.85em; color: #444; max-width: 70em; }
code { background: #f4f4f4; padding: 0 3px; } .notes { font-size: 0.85em; color: #444; }
"""


def _html_table(section: dict[str, Any]) -> str:
    cols = _columns(section)
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h in cols)
    body = "".join(
        f'<tr class="{html.escape(row["variant"])}">'
        + "".join(f"<td>{html.escape(format_cell(k, row.get(k)))}</td>" for k, _ in cols)
        + "</tr>"
        for row in section["rows"]
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html(meta: dict[str, Any], sections: Sequence[dict[str, Any]]) -> str:
    call = meta["call"]
    out = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        "<title>Surrogate calibration comparison</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Surrogate calibration comparison</h1>",
        f"<p>{html.escape(_intro(meta))}</p>",
        f"<p>Command: <code>{html.escape(meta['argv'])}</code></p>",
        "<ul class='notes'>" + "".join(f"<li>{html.escape(x)}</li>" for x in _READING) + "</ul>",
    ]
    for s in sections:
        t = s["target"]
        out += [
            f"<h2 id='{t.name}'>{html.escape(t.name)} ({html.escape(t.paper_name)})</h2>",
            f"<p>Split: {s['split']['train']} train, {s['split']['val']} validation, "
            f"{s['split']['test']} test points (budget <code>{html.escape(call['budget'])}</code>)."
            "</p>",
            _html_table(s),
            "<ul class='notes'>" + "".join(f"<li>{html.escape(n)}</li>" for n in _notes(s))
            + "</ul>",
        ]
        for fig in s["figures"]:
            data = base64.b64encode(fig.png).decode("ascii")
            out.append(
                f"<figure><h3>{html.escape(fig.title)}</h3>"
                f"<img alt='{html.escape(fig.title)}' src='data:image/png;base64,{data}'>"
                f"<figcaption>{html.escape(fig.caption)}</figcaption></figure>"
            )
    out.append("</body></html>")
    return "\n".join(out)


def write_report(out: Path, meta: dict[str, Any], sections: Sequence[dict[str, Any]]) -> Path:
    """Write ``report.html``, ``report.md``, ``figures/*.png`` and ``report.json`` to ``out``,
    each atomically (a crash leaves the old file or the new one, never a truncated one).

    Parameters
    ----------
    out : Path
        Report folder (created if needed).
    meta : dict
        Call, versions, machine and timing (see :func:`workflows.report.compare.run_compare`).
    sections : sequence of dict
        Per target: ``target`` (Target), ``split`` (sizes), ``rows`` (table rows), ``figures``
        (list of :class:`~workflows.report.figures.FigureImage`), ``seconds``.

    Returns
    -------
    Path
        ``out / "report.html"``.
    """
    out = Path(out)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    for s in sections:
        for fig in s["figures"]:
            atomic_write(out / "figures" / f"{s['target'].name}_{fig.key}.png",
                         lambda p, png=fig.png: p.write_bytes(png))
    write_text(out / "report.md", _markdown(meta, sections))
    write_text(out / "report.html", _html(meta, sections))
    payload = {
        "meta": meta,
        "targets": {
            s["target"].name: {
                "split": s["split"],
                "rows": s["rows"],
                "seconds": s["seconds"],
                "figures": [f"figures/{s['target'].name}_{f.key}.png" for f in s["figures"]],
            }
            for s in sections
        },
    }
    write_text(out / "report.json", json.dumps(_jsonable(payload), indent=1))
    return out / "report.html"
