"""``python -m dltoys`` is the ``dltoys`` command."""

import sys

from .launch import main

sys.exit(main())
