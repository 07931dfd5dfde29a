"""The proof of a model split across executions linked by commitments (Topology.COMMITMENTS).

One row's proof is a bundle: one snarkVM execution (with its proof) per link, in link
order, saved as one JSON file `{"topology": "commitments", "links": [execution, ...]}`.
Each link's transition outputs, in order (workbench/leo_templates/_linked.leo.j2): the
public commitment of the features it read, of the carry it received (links after the
first), of the carry it hands on (links before the last), then the carry (private) or the
prediction. A bundle holds when every execution verifies and the commitments chain: every
link committed to the same features, and each link received what the link before handed
on. This module reads bundles without snarkVM; workbench/snarkvm/ verifies them.
"""

from __future__ import annotations

import json
from typing import Any

from workbench.kinds import Topology


def make_bundle(executions: list[str]) -> str:
    """One row's proof from its links' execution JSONs, in link order."""
    return json.dumps({"topology": str(Topology.COMMITMENTS), "links": [json.loads(e) for e in executions]})


def is_bundle(text: str) -> bool:
    """Whether a proof file holds linked executions rather than one execution."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return False
    return isinstance(data, dict) and data.get("topology") == Topology.COMMITMENTS and isinstance(data.get("links"), list)


def link_executions(text: str) -> list[str]:
    """Each link's execution JSON, in link order (the text itself when it is no bundle)."""
    if not is_bundle(text):
        return [text]
    return [json.dumps(e) for e in json.loads(text)["links"]]


def _outputs(execution: Any) -> list[dict[str, Any]]:
    transitions = execution.get("transitions", []) if isinstance(execution, dict) else []
    return list(transitions[-1].get("outputs", [])) if transitions else []


def commitments_in(position: int, links: int) -> int:
    """How many commitments open link `position`'s outputs (of `links` links)."""
    return 1 + (position > 0) + (position < links - 1)


def chain_problems(text: str) -> list[str]:
    """What breaks the chain of commitments of a bundle (empty: it chains). Checks the
    public values only; each execution's proof is verified separately."""
    try:
        links = json.loads(text)["links"]
        outputs = [_outputs(e) for e in links]
        values = [[str(o.get("value")) for o in out] for out in outputs]
        kinds = [[o.get("type") for o in out] for out in outputs]
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
        return ["not a bundle of linked executions"]
    n = len(links)
    problems = []
    for k in range(n):
        need = commitments_in(k, n)
        if len(values[k]) < need + 1 or any(t != "public" for t in kinds[k][:need]):
            problems.append(f"link {k + 1} of {n} does not output its {need} public commitment(s)")
    if problems:
        return problems
    if any(v[0] != values[0][0] for v in values):
        problems.append("the links committed to different features")
    for k in range(n - 1):
        handed = values[k][commitments_in(k, n) - 1]
        received = values[k + 1][1]
        if handed != received:
            problems.append(f"link {k + 2} of {n} received values other than those link {k + 1} handed on")
    return problems


def prediction_outputs(text: str) -> list[str] | None:
    """The values the last link outputs after its commitments (the prediction), as
    snarkVM printed them; None if the bundle is malformed."""
    try:
        links = json.loads(text)["links"]
        last = [str(o.get("value")) for o in _outputs(links[-1])]
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError, IndexError):
        return None
    return last[commitments_in(len(links) - 1, len(links)):]
