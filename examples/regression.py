"""Runnable script: `python examples/regression.py [--epochs N] [--outdir DIR] [--no-plot]`.

The implementation is `fastloss.examples.regression` (src/fastloss/examples/regression.py), so that
`python -m fastloss demo` runs it from an installed wheel too; read that file for the model,
the data and the training loop.
"""

import sys

from fastloss.examples import regression
from fastloss.examples._common import cli

if __name__ == "__main__":
    sys.exit(cli(regression.main, regression.__doc__))
