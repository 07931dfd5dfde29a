"""The snarkVM side, through aleo-sdk (module `aleo`): setup parameters, ledger stub, prover."""
