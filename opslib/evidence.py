"""The evidence bundle of one run: executed notebook, HTML report, result.json, manifest.json.

A run folder is created exclusively (never overwritten), filled whether the notebook
succeeded or not, scanned for secrets, and sealed with a SHA-256 manifest. It holds an
INCOMPLETE marker from its creation until it is sealed, so a folder left by a killed
process or a full disk says so; every file is written beside its final name and renamed.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import secrets as pysecrets
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from opslib.errors import ConfigError, EvidenceUnwritable
from opslib.masking import redact_text
from opslib.results import FINDINGS_MIME, RESULT_MIME, Finding

MANIFEST = "manifest.json"
RESULT = "result.json"
INCOMPLETE = "INCOMPLETE"
_INCOMPLETE_TEXT = (
    "This run folder was not sealed: the run was killed, or its evidence could not be written.\n"
    "Its files (if any) are what was saved before that; there is no manifest to check them against.\n"
)


def is_bundle(folder: Path) -> bool:
    """A run folder: sealed (manifest) or left unsealed (marker)."""
    return (folder / MANIFEST).is_file() or (folder / INCOMPLETE).is_file()


def enclosing_bundle(path: Path) -> Path | None:
    """The run folder `path` is (or lies inside), if any."""
    here = path.resolve()
    for candidate in (here, *here.parents):
        if candidate.is_dir() and is_bundle(candidate):
            return candidate
    return None


def unwritable(target: Path, exc: OSError) -> EvidenceUnwritable:
    """One sentence for an OSError met while writing evidence (no traceback, no errno number)."""
    reasons = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exhausted",
        errno.EROFS: "it is on a read-only file system",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENOTDIR: "a file stands where a folder is needed",
        errno.EEXIST: "a file stands where a folder is needed",
        errno.EFBIG: "the file size limit was reached",
    }
    reason = reasons.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    return EvidenceUnwritable(f"cannot write the evidence to {target}: {reason}")


def new_run_folder(out_dir: Path, runbook: str, started: datetime, wi_id: str = "") -> Path:
    """evidence/<runbook>_<UTC stamp>[_<WI>]_<random>: unique, created exclusively, marked INCOMPLETE."""
    inside = enclosing_bundle(out_dir)
    if inside is not None:
        raise ConfigError(
            f"--out {out_dir} is inside the run folder {inside}: a bundle is sealed as it is; "
            "write new runs beside it (e.g. its parent folder)"
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise EvidenceUnwritable(f"cannot write the evidence to {out_dir}: it is a file, not a folder")
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    wi = f"_{re.sub(r'[^A-Za-z0-9_-]', '', wi_id)}" if wi_id else ""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for _ in range(20):
            folder = out_dir / f"{runbook}_{stamp}{wi}_{pysecrets.token_hex(3)}"
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            try:
                (folder / INCOMPLETE).write_text(_INCOMPLETE_TEXT, encoding="utf-8")
            except OSError:
                # not even the marker fits: leave nothing that could pass for a bundle
                _remove_quietly(folder / INCOMPLETE)
                _remove_quietly(folder)
                raise
            return folder
    except OSError as exc:
        raise unwritable(out_dir, exc) from None
    raise EvidenceUnwritable(f"cannot write the evidence to {out_dir}: could not create a new run folder")


def _remove_quietly(path: Path) -> None:
    with suppress(OSError):
        path.rmdir() if path.is_dir() else path.unlink(missing_ok=True)


def write_atomically(path: Path, data: bytes | str) -> None:
    """Write beside the final name, then rename: a reader never sees a half-written file."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Collected:
    """What the executed notebook reported about itself."""

    findings: tuple[Finding, ...]
    result: Mapping[str, Any] | None


def collect(nb: Any) -> Collected:
    """Read the opsbook MIME outputs back from an executed (possibly partial) notebook."""
    found: list[Finding] = []
    result: Mapping[str, Any] | None = None
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if FINDINGS_MIME in data:
                found.extend(Finding.from_json(f) for f in data[FINDINGS_MIME]["findings"])
            if RESULT_MIME in data:
                result = data[RESULT_MIME]
    return Collected(tuple(found), result)


def _report_exporter_class() -> type:
    """HTMLExporter minus its closing BeautifulSoup pass.

    nbconvert 7 re-parses the whole rendered page with BeautifulSoup only to add a generic
    alt text to images without one and tabindex to cells: ~0.4 s for a payments report, the
    largest single cost of writing it. Our charts carry their own alt text (charts.show).
    Everything else is HTMLExporter's own code path; should its internals move, the stock
    exporter is used.
    """
    from nbconvert import HTMLExporter

    try:
        from nbconvert.exporters.templateexporter import TemplateExporter
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
    except ImportError:
        return HTMLExporter

    class ReportExporter(HTMLExporter):  # type: ignore[misc, valid-type]
        def from_notebook_node(self, nb, resources=None, **kw):  # type: ignore[no-untyped-def]
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            self.register_filter(
                "highlight_code", self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            )
            resources = self._init_resources(resources)
            self.register_filter(
                "filter_data_type",
                WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources),
            )
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    if not all(hasattr(ReportExporter, a) for a in ("_init_resources", "register_filter")):
        return HTMLExporter
    return ReportExporter


@cache
def _exporter() -> Any:
    """The HTML exporter, built once: importing nbconvert and loading its templates costs ~0.5 s."""
    from nbconvert.preprocessors import Preprocessor

    class DropStderr(Preprocessor):
        """Kernel warnings on stderr are noise for the reader of a report."""

        def preprocess_cell(self, cell, resources, index):  # type: ignore[no-untyped-def]
            if cell.get("cell_type") == "code":
                cell.outputs = [
                    o
                    for o in cell.get("outputs", [])
                    if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                ]
            return cell, resources

    templates = resources.files("opslib") / "templates"
    exporter = _report_exporter_class()(
        template_name="opsbook_report",
        extra_template_basedirs=[str(templates)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        # Charts are image/png outputs, which the template inlines as data: URIs. embed_images
        # only concerns <img> tags in markdown (we write none) and costs another parse.
    )
    exporter.register_preprocessor(DropStderr(), enabled=True)
    return exporter


def warm_up_html() -> None:
    """Import nbconvert and compile the report template ahead of time (run in a thread
    while the kernel works: the HTML is then written in tens of milliseconds)."""
    import nbformat

    _exporter().from_notebook_node(nbformat.v4.new_notebook())


def export_html(nb: Any, target: Path) -> None:
    """Self-contained report: code hidden, charts inline, nothing fetched from a CDN.

    A cell that raised shows its one-line error, not the traceback: the report is attached to
    work items and read by people who did not write the code (source lines, absolute paths);
    the executed .ipynb beside it keeps the whole traceback for whoever debugs.
    """
    report = nb
    if any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", [])):
        import copy

        report = copy.deepcopy(nb)  # only then: the notebook with its charts is megabytes
        for cell in report.cells:
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]
    body, _ = _exporter().from_notebook_node(report)
    write_atomically(target, body)


def write_json(path: Path, payload: Mapping[str, Any]) -> None:
    write_atomically(path, json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")


def scrub_secrets(folder: Path, values: Iterable[str]) -> list[str]:
    """Redact secret-looking strings and known secret values in every file; say where (never what)."""
    known = list(values)
    leaks: list[str] = []
    for path in _bundle_files(folder):
        text = path.read_text(encoding="utf-8", errors="replace")
        cleaned, kinds = redact_text(text, known)
        if cleaned != text:
            write_atomically(path, cleaned)
            leaks.append(f"{path.relative_to(folder).as_posix()} ({', '.join(sorted(set(kinds)))})")
    return leaks


def _bundle_files(folder: Path) -> list[Path]:
    """Every file of a run folder, subfolders included, except its manifest and marker."""
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.relative_to(folder).as_posix() not in (MANIFEST, INCOMPLETE)
    )


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(folder: Path) -> Path:
    files = [
        {"path": p.relative_to(folder).as_posix(), "bytes": p.stat().st_size, "sha256": sha256(p)}
        for p in _bundle_files(folder)
    ]
    target = folder / MANIFEST
    write_json(target, {"algorithm": "sha256", "files": files})
    return target


def seal(folder: Path) -> Path:
    """Write the manifest, then drop the INCOMPLETE marker: the last two steps of every run."""
    target = write_manifest(folder)
    (folder / INCOMPLETE).unlink(missing_ok=True)
    return target


def verify(folder: Path) -> list[str]:
    """Problems found when checking a bundle, or every bundle under a folder (empty list = intact).

    The whole tree is checked: a file in a subfolder must be in the manifest like any other,
    and a run folder nested inside a bundle is named as such.
    """
    if not folder.is_dir():
        return [f"{folder} is not a folder"]
    if not is_bundle(folder):
        bundles = sorted(
            p for p in folder.rglob("*") if p.is_dir() and is_bundle(p) and enclosing_bundle(p.parent) is None
        )
        if not bundles:
            return [f"{folder} has no {MANIFEST} (and holds no run folder)"]
        return [f"{b.relative_to(folder).as_posix()}: {p}" for b in bundles for p in verify(b)]
    if (folder / INCOMPLETE).is_file():
        kept = ", ".join(p.relative_to(folder).as_posix() for p in _bundle_files(folder)) or "no file"
        return [
            f"incomplete run: {folder.name} was never sealed (the run was killed or its evidence could not "
            f"be written); it holds {kept}, unchecked"
        ]
    try:
        listed = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]
    except (ValueError, KeyError, TypeError):
        return [f"{MANIFEST} is not a valid manifest"]
    problems = []
    names = {f["path"] for f in listed}
    for entry in listed:
        p = folder / entry["path"]
        if not p.is_file():
            problems.append(f"{entry['path']} is missing")
        elif sha256(p) != entry["sha256"]:
            problems.append(f"{entry['path']} was changed after the run (SHA-256 differs)")
    for sub in sorted(p for p in folder.rglob("*") if p.is_dir() and is_bundle(p)):
        problems.append(f"{sub.relative_to(folder).as_posix()} is another run folder nested inside this one")
    for p in _bundle_files(folder):
        rel = p.relative_to(folder).as_posix()
        if rel not in names:
            problems.append(f"{rel} is not in the manifest")
    return problems
