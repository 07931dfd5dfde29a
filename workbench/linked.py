"""The proof of a model split across executions linked by commitments (Topology.COMMITMENTS).

One row's proof is a bundle: one snarkVM execution (with its proof) per link, in link
order, saved as one JSON file `{"topology": "commitments", "links": [execution, ...]}`.
Each link's transition outputs (workbench/leo_templates/_linked.leo.j2) a public array of
commitments, each to the features and the values of one handoff: what it received (links
after the first), what it hands on (links before the last); the last link then outputs
the prediction. A bundle holds when every execution verifies and the commitments chain:
each link received what the link before handed on, features included. This module reads
bundles without snarkVM; workbench/snarkvm/ verifies them.
"""

from __future__ import annotations

import json
from typing import Any

from workbench.kinds import Topology
from workbench.leo.codec import split_array_literal


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
    """How many commitments link `position` (of `links`) outputs: one per handoff it
    takes part in (what it received, what it hands on)."""
    return (position > 0) + (position < links - 1)


def chain_problems(text: str) -> list[str]:
    """What breaks the chain of commitments of a bundle (empty: it chains). Checks the
    public values only; each execution's proof is verified separately."""
    try:
        links = json.loads(text)["links"]
        firsts = [(_outputs(e) or [{}])[0] for e in links]
        commitments = [split_array_literal(str(o.get("value", ""))) if o.get("type") == "public" else [] for o in firsts]
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
        return ["not a bundle of linked executions"]
    n = len(links)
    if n < 2:
        return ["a bundle of fewer than two links"]
    problems = [
        f"link {k + 1} of {n} does not output its {commitments_in(k, n)} public commitment(s)"
        for k in range(n) if len(commitments[k]) != commitments_in(k, n)
    ]
    if problems:
        return problems
    # A handoff's commitment covers the features too, so matching handoffs also prove
    # that every link read the same features.
    for k in range(n - 1):
        if commitments[k][-1] != commitments[k + 1][0]:
            problems.append(f"link {k + 2} of {n} received values other than those link {k + 1} handed on")
    return problems


def prediction_outputs(text: str) -> list[str] | None:
    """The values the last link outputs after its commitments (the prediction), as
    snarkVM printed them; None if the bundle is malformed."""
    try:
        links = json.loads(text)["links"]
        return [str(o.get("value")) for o in _outputs(links[-1])][1:]
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError, IndexError):
        return None
