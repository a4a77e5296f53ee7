"""Runnable script: `python examples/binary.py [--epochs N] [--outdir DIR] [--no-plot]`.

The implementation is `fastloss.examples.binary` (src/fastloss/examples/binary.py), so that
`python -m fastloss demo` runs it from an installed wheel too; read that file for the model,
the data and the training loop.
"""

import sys

from fastloss.examples import binary
from fastloss.examples._common import cli

if __name__ == "__main__":
    sys.exit(cli(binary.main, binary.__doc__))
