"""Runnable script: `python examples/multiclass.py [--epochs N] [--outdir DIR] [--no-plot]`.

The implementation is `fastloss.examples.multiclass` (src/fastloss/examples/multiclass.py), so that
`python -m fastloss demo` runs it from an installed wheel too; read that file for the model,
the data and the training loop.
"""

import sys

from fastloss.examples import multiclass
from fastloss.examples._common import cli

if __name__ == "__main__":
    sys.exit(cli(multiclass.main, multiclass.__doc__))
