"""``python -m interplay`` (and ``torchrun -m interplay``) runs the command line."""

import sys

from interplay.cli import main

sys.exit(main())
