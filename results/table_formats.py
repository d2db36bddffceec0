"""Write a ``ReportTable`` as Markdown, CSV and LaTeX.

Markdown and LaTeX show the display cells; CSV holds the numbers (one column per statistic,
empty where absent) so that it loads back into pandas without parsing strings. Written by
hand rather than through ``DataFrame.to_markdown`` / ``Styler.to_latex``, which need the
optional ``tabulate`` / ``jinja2`` packages.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from results.report_tables import ReportTable

FORMATS = ("md", "csv", "tex")

# str.translate table: one pass per cell (tables of 200 runs have ~40k cells).
_LATEX_SPECIAL = str.maketrans({
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
})


def _text(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _rows(frame: pd.DataFrame) -> list[list]:
    # One conversion to Python objects: iterating pandas' Arrow-backed string columns cell by
    # cell is several times slower on report-sized tables.
    return frame.to_numpy(dtype=object).tolist()


def markdown(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured Markdown table; ``|`` and newlines inside cells are escaped."""
    def esc(value) -> str:
        return _text(value).replace("|", r"\|").replace("\n", " ")

    header = [esc(c) for c in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for values in _rows(frame):
        lines.append("| " + " | ".join(esc(v) for v in values) + " |")
    return "\n".join(lines) + "\n"


def latex_escape(text: str) -> str:
    return text.translate(_LATEX_SPECIAL)


def latex(frame: pd.DataFrame, caption: str = "") -> str:
    """A ``tabular`` (booktabs rules) inside a ``table``; every cell escaped."""
    spec = "l" * len(frame.columns)
    lines = [r"\begin{table}[t]", r"\centering", r"\small", rf"\begin{{tabular}}{{{spec}}}",
             r"\toprule", " & ".join(latex_escape(str(c)) for c in frame.columns) + r" \\",
             r"\midrule"]
    for values in _rows(frame):
        lines.append(" & ".join(latex_escape(_text(v)) for v in values) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    if caption:
        lines.append(rf"\caption{{{latex_escape(caption)}}}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def table_markdown(table: ReportTable) -> str:
    """Heading, note and table, as one section of the Markdown report."""
    note = f"{table.note}\n\n" if table.note else ""
    return f"## {table.title}\n\n{note}{markdown(table.cells)}"


def write_table(table: ReportTable, out_dir: Path, formats=FORMATS,
                markdown_text: str | None = None) -> list[Path]:
    """Write ``<out_dir>/<table.name>.<fmt>`` for each format; returns the paths.

    ``markdown_text``: the table's ``table_markdown`` when the caller already has it.

    Raises:
        ValueError: an unknown format.
    """
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown table format(s) {sorted(unknown)}; choose from {FORMATS}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = out_dir / f"{table.name}.{fmt}"
        if fmt == "md":
            path.write_text(markdown_text or table_markdown(table))
        elif fmt == "csv":
            table.numbers.to_csv(path, index=False)
        else:
            path.write_text(latex(table.cells, caption=table.title))
        written.append(path)
    return written
