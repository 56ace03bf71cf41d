"""``python -m dltoys`` is the ``dltoys`` command."""

import sys

from .cli import main

sys.exit(main())
