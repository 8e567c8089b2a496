"""Legacy Word (.doc, .wps) and RTF files, converted to .docx by LibreOffice (``soffice``)."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .document import Document
from .docx import read_docx
from ..status import Reason


SOFFICE_TIMEOUT = 180


def find_soffice() -> str | None:
    for name in ("soffice", "libreoffice"):
        p = shutil.which(name)
        if p:
            return p
    for p in ("/usr/bin/soffice", "/usr/lib/libreoffice/program/soffice", "/opt/libreoffice/program/soffice",
              "/Applications/LibreOffice.app/Contents/MacOS/soffice"):
        if Path(p).is_file():
            return p
    return None


def read_legacy_word(path: Path, rules=None) -> Document:
    """.doc / .wps: converted to .docx by LibreOffice (headless), then read as .docx."""
    fmt = path.suffix.lower().lstrip(".")
    soffice = find_soffice()
    if soffice is None:
        return Document(path=str(path), format=fmt).fail(
            Reason.CONVERTER_MISSING, f"a legacy .{fmt} file needs LibreOffice to convert it: install it "
                                      "(apt-get install libreoffice-writer) or save the file as .docx")
    with tempfile.TemporaryDirectory(prefix="replyparse-") as tmp:
        src = Path(tmp) / ("in" + path.suffix.lower())
        shutil.copyfile(path, src)  # a copy with a plain name: soffice dislikes odd file names
        env = dict(os.environ, HOME=tmp)  # its own profile, so parallel conversions do not collide
        try:
            proc = subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp}/profile",
                                   "--convert-to", "docx", "--outdir", tmp, str(src)],
                                  capture_output=True, text=True, timeout=SOFFICE_TIMEOUT, env=env)
        except subprocess.TimeoutExpired:
            return Document(path=str(path), format=fmt).fail(
                Reason.CONVERTER_FAILED, f"LibreOffice did not convert the .{fmt} file within {SOFFICE_TIMEOUT} s")
        out = Path(tmp) / "in.docx"
        if not out.is_file():
            return Document(path=str(path), format=fmt).fail(
                Reason.CONVERTER_FAILED, f"LibreOffice could not convert the .{fmt} file: "
                                         f"{(proc.stderr or proc.stdout).strip()[:200] or 'no output'}")
        doc = read_docx(out)
    doc.path, doc.format = str(path), fmt
    doc.warnings.append(f"converted from .{fmt} by LibreOffice")
    return doc


# ---------------------------------------------------------------- PDF
