"""The snarkVM side, through aleo-sdk (module `aleo`): setup parameters, ledger stub, prover."""

import os

# snarkVM's errors and halts carry long Rust backtraces when RUST_BACKTRACE is set, which
# would bury the one line a user needs; WORKBENCH_RUST_BACKTRACE=1 brings them back.
os.environ["RUST_BACKTRACE"] = os.environ.get("WORKBENCH_RUST_BACKTRACE", "0")
os.environ["RUST_LIB_BACKTRACE"] = os.environ["RUST_BACKTRACE"]
