"""Writing an experiment TOML: flat sections of strings, numbers, booleans and short lists.

The stdlib reads TOML but cannot write it, and the experiment format is small and flat,
so a few lines suffice. Whatever is written is re-read with `load_experiment` before it
replaces anything (see `save_experiment`).
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any

from workbench.experiment import Experiment, load_experiment

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}


def _unicode_escape(c: str) -> str:
    # TOML's \\u takes exactly 4 hex digits; a character past U+FFFF needs \\U and 8.
    return f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}"


def toml_value(v: Any) -> str:
    """One TOML value: str, bool, int, float or a list of those."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        out = "".join(_ESCAPES.get(c, c if c.isprintable() else _unicode_escape(c)) for c in v)
        return f'"{out}"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def to_toml(sections: dict[str, dict[str, Any]], header: str = "") -> str:
    """A TOML document of flat `[section]` tables (None values are left out)."""
    lines = [f"# {line}" for line in header.splitlines()]
    for name, table in sections.items():
        if lines:
            lines.append("")
        lines.append(f"[{name}]")
        for k, v in table.items():
            if v is not None:
                lines.append(f"{k} = {toml_value(v)}")
    return "\n".join(lines) + "\n"


def experiment_sections(exp: Experiment, target_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """The TOML sections that describe `exp` (a CSV path is made relative to `target_dir`)."""
    ds = exp.dataset
    dataset: dict[str, Any] = {"name": ds.name, "test_size": ds.test_size, "scaling": ds.scaling, **ds.params}
    if ds.csv_path is not None:
        base = Path(target_dir) if target_dir else exp.path.parent
        dataset["path"] = os.path.relpath(ds.csv_path, base.resolve())
        dataset["target"] = ds.target
    q = exp.quantization
    return {
        "experiment": {"name": exp.name, "description": exp.description, "seed": exp.seed},
        "dataset": dataset,
        "model": {"algorithm": exp.model.algorithm, **exp.model.params},
        "quantization": {
            "fractional_bits": "auto" if q.fractional_bits is None else q.fractional_bits,
            "input_range": "auto" if q.input_range is None else list(q.input_range),
        },
        "zk": {
            "samples": "all" if exp.zk.samples is None else exp.zk.samples,
            "proofs": exp.zk.proofs,
            "batch": exp.zk.batch,
            "inputs": exp.zk.inputs,
            "output": exp.zk.output,
            "scores": exp.zk.scores,
            "compiler": exp.zk.compiler,
            "endpoint": exp.zk.endpoint,
            "setup": exp.zk.setup,
        },
    }


def save_experiment(text: str, target: Path, overwrite: bool = False) -> Experiment:
    """Validate TOML text as an experiment and write it to `target`.

    The text is written to a hidden temporary file beside `target` (so relative CSV paths
    resolve as they will for the saved file), loaded with `load_experiment`, and renamed
    over `target` only if it is valid. Raises `ExperimentError` (nothing written) or
    `FileExistsError`.
    """
    target = Path(target)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} already exists; choose another file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=".toml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        load_experiment(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return load_experiment(target)
