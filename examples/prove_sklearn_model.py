"""Prove a scikit-learn model's prediction without learning Leo, then verify it elsewhere.

    python examples/prove_sklearn_model.py [OUTPUT_DIR]     (default: ./zk_example)

1. Fit a scikit-learn Pipeline (StandardScaler + LogisticRegression) on the breast cancer data.
2. Compile it for zero-knowledge inference: a Leo program, its Aleo instructions, a plan.
3. Prove one test row's prediction with snarkVM (the 30 features stay private).
4. Save the compiled model (Leo project, Aleo program, verifying key, model.json) and the proof.
5. Verify the proof in a fresh Python process that has neither the model nor the data.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from workbench import zk


def main(out: Path) -> int:
    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=7, stratify=y)
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X_train, y_train)

    model = zk.compile(pipe, X_train, name="cancer_logistic")
    print(model)
    print("estimated constraints:", model.estimates)
    agree = (model.predict_quantized(X_test) == pipe.predict(X_test)).mean()
    print(f"quantized model agrees with scikit-learn on {agree:.1%} of the test rows")

    proof = model.prove(X_test[:1])  # executes in snarkVM and proves it (seconds)
    print(f"proved: the model predicts {proof.predictions[0]} (true label {y_test[0]})")
    model.save(out / "model")
    proof.save(out / "proof.json")
    model.close()

    # Anyone holding the two files can check the claim: a fresh process, no model, no data.
    check = "from workbench import zk; import sys; sys.exit(0 if zk.verify(sys.argv[1], sys.argv[2]) else 1)"
    fresh = subprocess.run([sys.executable, "-c", check, str(out / "proof.json"), str(out / "model")])
    print("verified in a fresh process:", fresh.returncode == 0)
    return fresh.returncode


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("zk_example")))
