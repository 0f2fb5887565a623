"""Start-up time: the 3-second budget of `opsbook run` leaves no room for slow imports."""

from __future__ import annotations

import sys


def skip_slow_format_checkers() -> None:
    """Keep jsonschema from building rfc3987-syntax's grammars (~2 s) when nbformat imports it.

    jupyterlab's jupyter-events pulls in jsonschema[format-nongpl], whose rfc3987-syntax
    compiles Lark grammars at import. jsonschema imports it inside `suppress(ImportError)`
    only to register the iri/uri formats, which the notebook schema never uses; a None
    entry in sys.modules makes that import fail fast. Only the opsbook process is
    affected, never the notebook kernel or JupyterLab.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
