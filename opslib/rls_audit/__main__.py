"""python -m opslib.rls_audit [--check]: regenerate (or check) the contract's posture snapshot."""

import sys

from opslib.rls_audit.baseline import main

sys.exit(main(sys.argv[1:]))
