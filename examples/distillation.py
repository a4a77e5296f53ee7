"""Runnable script: `python examples/distillation.py [--epochs N] [--outdir DIR] [--no-plot]`.

The implementation is `fastloss.examples.distillation` (src/fastloss/examples/distillation.py), so that
`python -m fastloss demo` runs it from an installed wheel too; read that file for the model,
the data and the training loop.
"""

import sys

from fastloss.examples import distillation
from fastloss.examples._common import cli

if __name__ == "__main__":
    sys.exit(cli(distillation.main, distillation.__doc__))
